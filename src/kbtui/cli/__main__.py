"""`python -m kbtui.cli`: the `kbtui` command."""

from kbtui.cli import main

main()
