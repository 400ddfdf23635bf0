"""Where did the user write this? Source locations from op and exception tracebacks.

A frame is the *user's* when its file belongs to neither TensorFlow, Keras,
gradflow itself nor Python's standard library. An op's location is the innermost
user frame of the traceback TensorFlow recorded when the op was created.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import sys
import sysconfig
import traceback
from typing import Callable, Iterable

from .errors import GradflowError
from .schema import Location

__all__ = ["Location", "is_user_file", "innermost_user_frame", "format_user_traceback", "Origin",
           "op_origin", "package_of"]

_LIBRARY_PACKAGES = ("tensorflow", "keras", "tf_keras", "gradflow", "absl", "tensorboard")


_GENERATED = "__autograph_generated_file"
_SITE = os.sep + "site-packages" + os.sep
_DIST = os.sep + "dist-packages" + os.sep


@functools.lru_cache(maxsize=1)
def _script_dirs() -> frozenset[str]:
    """Folders of installed console scripts (``bin/`` of the interpreter and venv)."""
    import sys

    dirs = {os.path.realpath(os.path.dirname(sys.executable))}
    for key in ("scripts",):
        path = sysconfig.get_paths().get(key)
        if path:
            dirs.add(os.path.realpath(path))
    return frozenset(dirs)


@functools.lru_cache(maxsize=1)
def _library_dirs() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(package dirs of TF, Keras, gradflow..., standard-library dirs), real paths."""
    packages = []
    for name in _LIBRARY_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.submodule_search_locations:
            packages.extend(os.path.realpath(p) + os.sep for p in spec.submodule_search_locations)
    stdlib = {
        os.path.realpath(path) + os.sep
        for key in ("stdlib", "platstdlib")
        if (path := sysconfig.get_paths().get(key))
    }
    return tuple(packages), tuple(sorted(stdlib))


@functools.lru_cache(maxsize=4096)
def is_user_file(filename: str) -> bool:
    """Whether a frame in ``filename`` is the user's own code."""
    if not filename or filename.startswith("<"):
        return False
    real = os.path.realpath(filename)
    if _GENERATED in real:
        return False
    packages, stdlib = _library_dirs()
    if real.startswith(packages) or real.startswith(stdlib):
        return False
    # Installed packages (pytest, IPython...) and console scripts such as
    # .venv/bin/gradflow are never the user's model code.
    if _SITE in real or _DIST in real:
        return False
    return os.path.dirname(real) not in _script_dirs()
    return True


# Frames that only pass an op through to TensorFlow: TensorFlow itself, and
# Keras's backend, ops and random modules (what ``keras.ops.stop_gradient``
# calls). An op made below them alone was made by whoever called them.
_OP_LIBRARY = ("tensorflow", "keras/src/backend", "keras/src/ops", "keras/src/random", "keras/src/utils",
               "tf_keras/src/backend", "tf_keras/src/utils", "tensorflow_core")


@functools.lru_cache(maxsize=4096)
def package_of(filename: str) -> str | None:
    """The installed package a library file belongs to (``keras``, ``tensorflow_probability``...), or None.

    Examples:
        >>> package_of("/x/site-packages/keras_hub/src/models/bert/bert_backbone.py")
        'keras_hub'
        >>> package_of("/x/site-packages/six.py")
        'six'
        >>> package_of("model.py") is None
        True
    """
    real = filename.replace(os.sep, "/")
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in real:
            head = real.split(marker, 1)[1].split("/", 1)[0]
            return head[:-3] if head.endswith(".py") else head
    if not os.path.isabs(filename) and os.sep not in filename:
        return None
    packages, _ = _library_dirs()
    full = os.path.realpath(filename)
    for name in _LIBRARY_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for root in (spec.submodule_search_locations or ()) if spec else ():
            if full.startswith(os.path.realpath(root) + os.sep):
                return name
    return None


@functools.lru_cache(maxsize=4096)
def _passes_through(filename: str) -> bool:
    """A frame of TensorFlow or of Keras's op layer: it only hands the op on."""
    real = filename.replace(os.sep, "/")
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in real:
            rest = real.split(marker, 1)[1]
            return any(rest.startswith(prefix + "/") for prefix in _OP_LIBRARY)
    return package_of(filename) in ("tensorflow", "gradflow") if os.path.isabs(filename) else False


@functools.lru_cache(maxsize=4096)
def _is_stdlib(filename: str) -> bool:
    _, stdlib = _library_dirs()
    real = os.path.realpath(filename)
    return real.startswith(stdlib) and _SITE not in real and _DIST not in real


class Origin:
    """Who made an op: ``"user"`` or ``"library:NAME"`` (the contract's words)."""

    USER = "user"

    @staticmethod
    def library(name: str) -> str:
        return f"library:{name}"

    @staticmethod
    def is_library(origin: str | None) -> bool:
        return bool(origin) and origin.startswith("library:")


def op_origin(frames: Iterable, origin_of: Callable | None = None) -> str | None:
    """``"user"`` or ``"library:NAME"`` from an op's creation stack (outermost first).

    The innermost frame that is neither TensorFlow nor Keras's op layer
    (backend, ``keras.ops``, ``keras.random``) nor the standard library decides:
    the user's file gives ``"user"`` (``tf.stop_gradient`` or
    ``keras.ops.stop_gradient`` in the model file), an installed package gives
    ``"library:NAME"`` (Keras's LayerNormalization, a TensorFlow Probability
    distribution). None when no frame was recorded.
    """
    frames = list(frames)
    for frame in reversed(frames):
        filename = getattr(frame, "filename", None) or frame[0]
        if origin_of is not None and _GENERATED in filename:
            mapped = origin_of(filename, getattr(frame, "lineno", None) or frame[1])
            filename = mapped[0] if mapped else filename
        if not filename or filename.startswith("<") or _GENERATED in filename:
            continue
        if is_user_file(filename):
            return Origin.USER
        if _passes_through(filename) or _is_stdlib(filename):
            continue
        name = package_of(filename)
        if name == "gradflow":
            return None
        if name:
            return Origin.library(name)
    return None


def called_api(frames: Iterable, op_name: str = "") -> str | None:
    """The function the user's innermost line called to make this op: ``"Bernoulli.sample"``.

    The first frame inside the user's innermost frame that is not a mere
    wrapper (TensorFlow's dispatch and traceback handlers) names the
    function; the op's name scope (``Bernoulli/sample/Less``) or the user's
    line (``tfd.Bernoulli(...).sample(``, ``dist.sample(``) names what it was
    called on. None when the user's line made the op itself.
    """
    import linecache
    import re

    frames = list(frames)
    user_index = None
    for i, frame in enumerate(frames):
        filename = getattr(frame, "filename", None) or frame[0]
        if is_user_file(filename):
            user_index = i
    if user_index is None or user_index + 1 >= len(frames):
        return None
    called = None
    for frame in frames[user_index + 1:]:
        name = getattr(frame, "name", None) or (frame[2] if len(frame) > 2 else "")
        if name in _WRAPPERS or not name:
            continue
        called = name
        break
    if called is None:
        return None
    user = frames[user_index]
    text = linecache.getline(getattr(user, "filename", None) or user[0], getattr(user, "lineno", None) or user[1])
    if called == "__call__":
        m = re.search(r"([A-Za-z_][\w\.]*)\s*\(", text.split("=", 1)[-1] if "==" not in text else text)
        return m.group(1).split(".")[-1] if m else None
    parts = op_name.split("/")
    if called in parts[1:]:
        owner = parts[parts.index(called) - 1]
        owner = re.sub(r"_\d+$", "", owner)
        if owner and owner[0].isupper():
            return f"{owner}.{called}"
    m = re.search(r"([A-Za-z_]\w*)\s*(?:\((?:[^()]|\([^()]*\))*\))?\s*\.\s*" + re.escape(called) + r"\s*\(", text)
    if m:
        return f"{m.group(1)}.{called}"
    return called


_WRAPPERS = frozenset({"error_handler", "op_dispatch_handler", "wrapper", "_wrapper", "new_func",
                       "wrapped", "decorated", "inner", "_call", "__exit__", "__enter__"})


def notebook_cell(filename: str) -> str | None:
    """``cell [3]`` for the temporary file IPython compiled a notebook cell into, else None."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    try:
        shell = ipython.get_ipython()
        number = shell.compile._filename_map.get(filename) if shell is not None else None
    except Exception:  # noqa: BLE001 - another IPython, or none running
        return None
    return f"cell [{number}]" if isinstance(number, int) else None


class LocationResolver:
    """Turns frame filenames into :class:`Location` paths, as the user gave them.

    Args:
        source: the model file as the user named it (its real path maps back to it).
    """

    def __init__(self, source: str | None = None) -> None:
        self._source = source
        self._source_real = os.path.realpath(source) if source else None
        self._cwd = os.getcwd()
        self._origins: dict | None = None

    @functools.lru_cache(maxsize=4096)
    def display_path(self, filename: str) -> str:
        cell = notebook_cell(filename)
        if cell is not None:
            return cell
        real = os.path.realpath(filename)
        if self._source_real and real == self._source_real:
            return self._source
        try:
            rel = os.path.relpath(real, self._cwd)
        except ValueError:
            return real
        return real if rel.startswith("..") else rel

    def location(self, frames: Iterable) -> Location | None:
        """The innermost user frame of ``frames`` (outermost first), or None."""
        frame = innermost_user_frame(frames, self._autograph_origin)
        if frame is None:
            return None
        return Location(self.display_path(frame[0]), int(frame[1]))

    def _autograph_origin(self, filename: str, lineno: int) -> tuple[str, int] | None:
        if self._origins is None:  # read once, after tracing: every conversion is known by then
            self._origins = autograph_origins()
        return self._origins.get((filename, lineno))


def innermost_user_frame(frames: Iterable, origin_of: Callable | None = None) -> tuple[str, int] | None:
    """``(filename, lineno)`` of the innermost user frame; frames go outermost first.

    Frames outside gradflow's own calls do not count: when gradflow is on the
    stack, the frames outer to its outermost frame are the code that called
    ``gradflow.inspect`` (a notebook cell, a test), which did not build the
    model's ops; so a compiled Keras model's loss, which gradflow itself builds
    by calling Keras, has no user frame at all.

    A frame in code that autograph generated is mapped back to the line it was
    generated from by ``origin_of(filename, lineno)``. TensorFlow does this
    itself for ops built on the thread that called the ``tf.function``, but
    not on the threads where ``MirroredStrategy.run`` builds each replica.
    """
    found = None
    inside_gradflow = False
    for frame in frames:
        filename = getattr(frame, "filename", None) or frame[0]
        lineno = getattr(frame, "lineno", None) or frame[1]
        if origin_of is not None and _GENERATED in filename:
            filename, lineno = origin_of(filename, lineno) or (filename, lineno)
        if is_user_file(filename):
            found = (filename, lineno)
        elif not inside_gradflow and is_gradflow_file(filename):
            inside_gradflow = True
            found = None  # what came before called gradflow; the model's code runs inside it
    return found


def caller_frames(skip: int = 1) -> list[tuple[str, int]]:
    """``(filename, lineno)`` of the calling stack, outermost first, less the ``skip`` innermost frames.

    What ``traceback.extract_stack()`` gives, without reading each frame's
    source line: for :func:`innermost_user_frame` on every variable a model creates.
    """
    frame = sys._getframe(skip)
    frames = []
    while frame is not None:
        frames.append((frame.f_code.co_filename, frame.f_lineno))
        frame = frame.f_back
    frames.reverse()
    return frames


@functools.lru_cache(maxsize=4096)
def is_gradflow_file(filename: str) -> bool:
    return os.path.realpath(filename).startswith(_gradflow_dir())


@functools.lru_cache(maxsize=1)
def _gradflow_dir() -> str:
    return os.path.realpath(os.path.dirname(os.path.abspath(__file__))) + os.sep


def autograph_origins() -> dict[tuple[str, int], tuple[str, int]]:
    """``(generated file, line) -> (source file, line)`` for every function autograph has converted.

    Read from autograph's cache of converted functions (TensorFlow-internal,
    so any change there leaves the map empty, and such frames unlocated).
    """
    try:
        from tensorflow.python.autograph.impl import api as autograph_api

        buckets = list(autograph_api._TRANSPILER._cache._cache.values())
    except Exception:  # noqa: BLE001 - a TensorFlow without this internal layout
        return {}
    origins = {}
    for bucket in buckets:
        for factory in list(bucket.values()):
            for loc, origin in (getattr(factory, "source_map", None) or {}).items():
                origins[(loc.filename, loc.lineno)] = (origin.loc.filename, origin.loc.lineno)
    return origins


def format_user_traceback(exc: BaseException) -> str:
    """The user's frames of ``exc``'s traceback plus its final line, like Python's."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if is_user_file(f.filename)]
    lines = []
    if frames:
        lines.append("Traceback (most recent call last, your code only):\n")
        lines.extend(traceback.format_list(frames))
    if isinstance(exc, GradflowError):
        return "".join(lines).rstrip("\n")  # gradflow's own message is already the headline
    message = "".join(_user_frames_only(line) for line in traceback.format_exception_only(type(exc), exc))
    lines.append(_shortened(message))
    return "".join(lines).rstrip("\n")


MESSAGE_LINES = 24


def _shortened(message: str, keep: int = MESSAGE_LINES) -> str:
    """A long exception message (a tensor's whole numpy repr) cut in the middle to ``keep`` lines.

    Examples:
        >>> print(_shortened("\\n".join(f"line {i}" for i in range(8)), keep=4))
        line 0
        line 1
        … 5 lines cut …
        line 7
    """
    lines = message.splitlines(keepends=True)
    if len(lines) <= keep:
        return message
    head, tail = lines[: keep // 2], lines[-(keep - keep // 2 - 1):]
    return "".join(head) + f"… {len(lines) - len(head) - len(tail)} lines cut …\n" + "".join(tail)


_FRAME_LINE = re.compile(r'^\s*File "(?P<file>[^"]+)", line \d+, in ')


def _user_frames_only(message: str) -> str:
    """An exception message with the stack listings TensorFlow embeds in it cut to the user's frames.

    A ``tf.py_function`` whose body raises, or an op failing at run time, carries
    "defined at" stacks and the body's whole traceback in its message, through
    runpy, gradflow and TensorFlow: keep the user's frames (and their source
    lines), drop the others and the blank lines between frames.
    """
    if "File \"" not in message:
        return message
    out: list[str] = []
    keeping = True
    for line in message.splitlines(keepends=True):
        m = _FRAME_LINE.match(line)
        if m:
            keeping = is_user_file(m.group("file"))
            if keeping:
                out.append(line)
            continue
        if not line.strip():
            continue
        if line.startswith(("    ", "\t")) and not line.lstrip().startswith("[["):
            if keeping:  # a frame's source line (and its ^^^ marker)
                out.append(line)
            continue
        keeping = True
        out.append(line)
    return "".join(out)
