"""Command lines of the demo: ``python -m projects.tiny_demo.tools.<name> --help``."""
