"""Output files: the format a file name asks for, writing atomically (a reader sees the
old file or the whole new one), and refusing to write over the model file."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import stat
import threading

from .errors import RenderError

__all__ = ["write_atomic", "format_of", "resolve_output", "refuse_overwriting", "SUFFIXES"]

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


TEMP_PREFIX = ".gradflow-"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sweep_stale_temps(folder: str) -> None:
    """Remove ``.gradflow-PID-*`` temp files whose writer process is gone (it was SIGKILLed mid-write)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not name.startswith(TEMP_PREFIX):
            continue
        pid = name[len(TEMP_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # its writer still runs
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:
            pass


class _Terminated(BaseException):
    """SIGTERM arrived while :func:`write_atomic` held a temp file under the default disposition."""


@contextlib.contextmanager
def _sigterm_cleans_up():
    """While a temp file exists: SIGTERM under its default disposition (the Python API, no CLI
    handler) raises, so the temp file is removed, and then kills the process as SIGTERM would have.

    A handler someone else installed (the CLI's, which raises ``Terminated``) is left alone.
    """
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def handler(signum, frame):  # noqa: ARG001 - signal's protocol
        raise _Terminated(signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)  # the temp file is gone: die as SIGTERM asked
        raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def resolve_output(path: str) -> tuple[str, bool]:
    """Where writing ``path`` really goes: (the file to replace, whether to replace it atomically).

    A symbolic link is written through, as ``cp`` does: the file it points to
    gets the new content and the link stays. A path that exists and is not a
    regular file (``/dev/stdout``, a named pipe) is written directly, not
    replaced.
    """
    if os.path.exists(path) and not os.path.isfile(path):  # both follow links
        if os.path.isdir(path):
            raise RenderError(f"cannot write {path}: it is a folder. Give a file name.")
        return path, False
    return (os.path.realpath(path) if os.path.islink(path) else path), True


def write_atomic(path: str, data: str | bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    A reader sees the old file or the whole new one, never a part. The file
    keeps its permission bits when it existed (a new one gets 0666 less the
    umask); a symbolic link is written through (the link stays); a special file
    such as ``/dev/stdout`` is written directly. The temporary file is removed
    on every error and on SIGTERM (the CLI turns it into an exception; under
    SIGTERM's default disposition, as from the Python API, the write does so
    itself, removes the temp file, then dies by SIGTERM); one left by a
    SIGKILLed gradflow is removed by the next write into that folder.

    Raises:
        RenderError: the folder does not exist or is not writable, or ``path`` is a folder.
    """
    target, atomic = resolve_output(path)
    binary = isinstance(data, bytes)
    if not atomic:
        try:
            with open(target, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as fh:
                fh.write(data)
        except OSError as exc:
            raise RenderError(f"cannot write {path}: {exc.strerror}.") from exc
        return
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise RenderError(f"cannot write {path}: the folder {folder} does not exist. Create it first.")
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    _sweep_stale_temps(folder)
    with _sigterm_cleans_up():
        _write_through_temp(path, target, folder, mode, data, binary)


def _write_through_temp(path: str, target: str, folder: str, mode: int, data: str | bytes, binary: bool) -> None:
    # The temp file's name is known before it exists, so that an exception raised
    # at any point (SIGTERM's handler runs between any two bytecodes, even inside
    # the call that creates the file) finds the name to remove.
    def temp_name() -> str:
        return os.path.join(folder, f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}{os.path.splitext(target)[1]}")

    tmp = temp_name()
    try:
        while True:
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                break
            except FileExistsError:  # another writer's: never ours to remove
                tmp = temp_name()
            except OSError as exc:
                raise RenderError(f"cannot write {path}: {exc.strerror}. Choose a writable folder.") from exc
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):  # gone already when the replace was done
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise RenderError(f"cannot write {path}: {exc.strerror}.") from exc
        raise


def refuse_overwriting(outputs: "list[str]", inputs: "list[str]") -> None:
    """Raise :class:`~gradflow.errors.UsageError` when an output path is one of the input files.

    ``gradflow inspect model.py --json model.py`` would replace the model with its report.
    """
    from .errors import UsageError

    def same(a: str, b: str) -> bool:
        try:
            return os.path.samefile(a, b)
        except OSError:
            return os.path.realpath(a) == os.path.realpath(b)

    for out in outputs:
        for src in inputs:
            if out and src and os.path.exists(src) and not os.path.isdir(src) and same(out, src):
                raise UsageError(f"{out} is the model file itself; writing there would replace your model. "
                                 "Choose another output name.")
