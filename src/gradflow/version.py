"""gradflow's version (a leaf module: the CLI and the HTML footer read it without importing the package's API)."""

__version__ = "0.1.0"
