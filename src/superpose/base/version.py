"""The library version, written into every saved file (kept here so saving needs no package root)."""

__version__ = "0.1.0"
