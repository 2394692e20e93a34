"""flake8-flask-ctx: find and fix Flask context bugs in background threads."""

__version__ = "0.1.0"
