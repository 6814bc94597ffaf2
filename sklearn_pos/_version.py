"""The version of sklearn_pos, importable without importing the package's API."""

__version__ = "0.1.0.dev0"
