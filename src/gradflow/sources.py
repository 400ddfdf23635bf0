"""Where did the user write this? Source locations from op and exception tracebacks.

A frame is the *user's* when its file belongs to neither TensorFlow, Keras,
gradflow itself nor Python's standard library. An op's location is the innermost
user frame of the traceback TensorFlow recorded when the op was created.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
import sysconfig
import traceback
from typing import Callable, Iterable

from .schema import Location

__all__ = ["Location", "is_user_file", "innermost_user_frame", "format_user_traceback"]

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
        elif not inside_gradflow and _is_gradflow_file(filename):
            inside_gradflow = True
            found = None  # what came before called gradflow; the model's code runs inside it
    return found


@functools.lru_cache(maxsize=4096)
def _is_gradflow_file(filename: str) -> bool:
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
    lines.extend(traceback.format_exception_only(type(exc), exc))
    return "".join(lines).rstrip("\n")
