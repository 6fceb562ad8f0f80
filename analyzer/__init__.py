"""analyzer: find out why bearer tokens fail, across whole log archives."""

__version__ = "0.1.0"
