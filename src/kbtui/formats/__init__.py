"""The KB's formats: pure functions and models, no I/O and no Textual."""
