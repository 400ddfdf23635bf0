"""Keeping TensorFlow's start-up logging off the terminal (the CLI and its worker processes).

Call :func:`before_tensorflow_import` before TensorFlow is imported (its C++
logging reads the environment once) and :func:`after_tensorflow_import` after
(its Python and absl loggers exist only then).
"""

from __future__ import annotations

import os

__all__ = ["before_tensorflow_import", "after_tensorflow_import"]


def before_tensorflow_import() -> None:
    """Silence TensorFlow's C++ info and warning lines, unless the user chose a level."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def after_tensorflow_import() -> None:
    """Let TensorFlow's Python and absl loggers speak only of errors."""
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
    except ImportError:  # pragma: no cover
        pass
