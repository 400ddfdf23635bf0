"""Output files: the format a file name asks for, and writing atomically (a reader sees the
old file or the whole new one)."""

from __future__ import annotations

import os
import tempfile

from .errors import RenderError

__all__ = ["write_atomic", "format_of", "SUFFIXES"]

SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot", ".html": "html",
            ".htm": "html"}


def format_of(path: str) -> str:
    """The output format a file name's suffix names.

    Raises:
        RenderError: an unknown suffix.
    """
    suffix = os.path.splitext(str(path))[1].lower()
    fmt = SUFFIXES.get(suffix)
    if fmt is None:
        raise RenderError(f"{path}: cannot tell the format from the suffix {suffix or '(none)'!r}; "
                          "use .svg, .png, .pdf, .dot or .html")
    return fmt


def write_atomic(path: str, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    Raises:
        RenderError: the folder does not exist or is not writable.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise RenderError(f"cannot write {path}: the folder {folder} does not exist. Create it first.")
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        fd, tmp = tempfile.mkstemp(prefix=".gradflow-", suffix=os.path.splitext(path)[1], dir=folder)
    except OSError as exc:
        raise RenderError(f"cannot write {path}: {exc.strerror}. Choose a writable folder.") from exc
    try:
        with os.fdopen(fd, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise RenderError(f"cannot write {path}: {exc.strerror}.") from exc
        raise
