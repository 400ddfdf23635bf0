"""Which kind of model a path holds, and the loader for it: a path -> :class:`~gradflow.loading.Target`.

gradflow opens three kinds of model:

- a Python model file (``FILE.py``): :mod:`gradflow.loading.python`;
- a **SavedModel directory**: :mod:`gradflow.loading.savedmodel`;
- a **GraphDef** (``.pb`` binary or ``.pbtxt`` text): :mod:`gradflow.loading.graphdef`.

Telling them apart and checking the options needs no TensorFlow.
"""

from __future__ import annotations

import os

from ..errors import ModelFileError, UsageError
from .graphdef import load_graph_def
from .python import load_file
from .savedmodel import load_saved_model
from .target import Origin, Target

__all__ = ["model_format", "check_options", "load_model", "SAVED_MODEL_FILES", "GRAPHDEF_SUFFIXES"]

SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")
GRAPHDEF_SUFFIXES = (".pb", ".pbtxt")

_DESCRIPTIONS = {
    "python": "a Python model file",
    "saved_model": "a SavedModel directory",
    "graphdef": "a GraphDef",
}
_HOW_TO_NAME = {
    "python": "name its target with --target NAME (and its inputs with --inputs NAME)",
    "saved_model": "pick its function with --function NAME; its inputs come from the function's signature",
    "graphdef": "name its loss with --loss TENSOR; a GraphDef is never fed or run",
}
# option -> (its flag, the format it applies to)
_OPTIONS = {
    "target": ("--target", "python"),
    "inputs": ("--inputs", "python"),
    "function": ("--function", "saved_model"),
    "loss": ("--loss", "graphdef"),
}


# ---------------------------------------------------------------------------
# Which kind of model (no TensorFlow needed)


def model_format(path: str) -> Origin:
    """Tell a Python model file, a SavedModel directory and a GraphDef apart.

    Raises:
        ModelFileError: the path is missing or is none of the three.
    """
    fix = "Give a Python model file (.py), a SavedModel directory or a GraphDef (.pb, .pbtxt)."
    if not os.path.exists(path):
        raise ModelFileError(f"{path}: no such file or directory. {fix}")
    if os.path.isdir(path):
        if any(os.path.isfile(os.path.join(path, f)) for f in SAVED_MODEL_FILES):
            return "saved_model"
        raise ModelFileError(
            f"{path} is a directory, but not a SavedModel (it holds no saved_model.pb). "
            "Give a SavedModel directory written by tf.saved_model.save, or a model file (.py, .pb, .pbtxt)."
        )
    if path.endswith(".py"):
        return "python"
    if os.path.basename(path) in SAVED_MODEL_FILES:
        folder = os.path.dirname(path) or "."
        raise ModelFileError(
            f"{path} is the graph file of a SavedModel, not a GraphDef. Give its directory instead: "
            f"gradflow inspect {folder} --function NAME."
        )
    if path.endswith(GRAPHDEF_SUFFIXES):
        return "graphdef"
    raise ModelFileError(f"{path} is not a Python file, a SavedModel or a GraphDef. {fix}")


def check_options(path: str, *, target: str | None = None, inputs: str | None = None,
                  function: str | None = None, loss: str | None = None) -> Origin:
    """The model's format, after checking that every option given applies to it.

    Raises:
        ModelFileError: see :func:`model_format`.
        UsageError: an option for another kind of model (``--loss`` with a .py file...).
    """
    fmt = model_format(path)
    given = {"target": target, "inputs": inputs, "function": function, "loss": loss}
    for option, value in given.items():
        flag, owner = _OPTIONS[option]
        if value is not None and owner != fmt:
            raise UsageError(
                f"{flag} applies to {_DESCRIPTIONS[owner]}, but {path} is {_DESCRIPTIONS[fmt]}: "
                f"{_HOW_TO_NAME[fmt]}."
            )
    return fmt


def load_model(path: str, *, target: str | None = None, inputs: str | None = None,
               function: str | None = None, loss: str | None = None) -> Target:
    """Load any model gradflow opens (see the module docstring) into a :class:`Target`.

    Args:
        path: a ``.py`` file, a SavedModel directory, or a GraphDef ``.pb``/``.pbtxt``.
        target, inputs: for a Python file (``--target``, ``--inputs``).
        function: for a SavedModel (``--function``).
        loss: for a GraphDef (``--loss``).

    Raises:
        UserError: a subclass naming the problem and its fix.
    """
    fmt = check_options(path, target=target, inputs=inputs, function=function, loss=loss)
    if fmt == "saved_model":
        return load_saved_model(path, function)
    if fmt == "graphdef":
        return load_graph_def(path, loss)
    return load_file(path, target=target, inputs=inputs)
