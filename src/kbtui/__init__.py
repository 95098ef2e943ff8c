"""kbtui: a keyboard-driven terminal workbench for curating a markdown knowledge base."""

__version__ = "0.1.0"
