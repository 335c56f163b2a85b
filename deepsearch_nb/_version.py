"""The package version; kept equal to labextension/package.json by a test."""

__version__ = "0.1.0"
