"""Moved to :mod:`gradflow.writing`; this name keeps old imports working."""

from .writing import SUFFIXES, format_of, write_atomic  # noqa: F401

__all__ = ["write_atomic", "format_of", "SUFFIXES"]
