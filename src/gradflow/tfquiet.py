"""Keeping TensorFlow's start-up logging off the terminal (the CLI and its worker processes).

Call :func:`before_tensorflow_import` before TensorFlow is imported (its C++
logging reads the environment once) and :func:`after_tensorflow_import` after
(its Python and absl loggers exist only then).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from typing import Iterator

__all__ = ["before_tensorflow_import", "after_tensorflow_import", "import_tensorflow"]

# What TensorFlow's C++ side prints at import whatever TF_CPP_MIN_LOG_LEVEL says (absl logs
# before its own initialisation, and oneDNN's notice): start-up noise, not a message.
_STARTUP_NOISE = re.compile(r"All log messages before absl::InitializeLog\(\) is called|"
                            r"oneDNN custom operations are on")


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


@contextlib.contextmanager
def _startup_noise_dropped() -> Iterator[None]:
    """Hold file descriptor 2 while TensorFlow loads; pass on every line but the known noise."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a notebook or a captured stream: no fd to hold
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), fd)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            held.seek(0)
            for line in held.read().decode("utf-8", "replace").splitlines(keepends=True):
                if not _STARTUP_NOISE.search(line):
                    sys.stderr.write(line)
            sys.stderr.flush()


def import_tensorflow() -> None:
    """Import TensorFlow quietly: its start-up lines dropped (unless the user set
    ``TF_CPP_MIN_LOG_LEVEL`` to ask for them), everything else it prints kept."""
    chosen = "TF_CPP_MIN_LOG_LEVEL" in os.environ
    before_tensorflow_import()
    if chosen or "tensorflow" in sys.modules:
        import tensorflow  # noqa: F401
    else:
        with _startup_noise_dropped():
            import tensorflow  # noqa: F401
    after_tensorflow_import()
