"""What stage 1 hands on: a :class:`Target` (what to differentiate, with what inputs).

Every loader (:mod:`~gradflow.loading.python`, :mod:`~gradflow.loading.savedmodel`,
:mod:`~gradflow.loading.graphdef`) returns one, and so does the Python API.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Target", "TargetKind", "Origin", "NO_SOURCE", "listing"]

TargetKind = Literal["callable", "keras", "tf1"]
Origin = Literal["python", "saved_model", "graphdef"]
NO_SOURCE = "a {what} keeps no Python source lines, so every location in this report is null"
MAX_LISTED = 12


@dataclass(frozen=True)
class Target:
    """What to differentiate, with what inputs.

    Attributes:
        source: the model file as the user gave it, or None for the Python API.
        name: the target's attribute name (or a description for the Python API).
        kind: ``"callable"``, ``"keras"`` (a compiled model) or ``"tf1"`` (a graph tensor).
        obj: the callable, model or loss tensor; for a SavedModel, the restored
            concrete function.
        args, kwargs: the example inputs (callable and keras kinds).
        feed: placeholder tensor -> value (tf1 kind); filled in while tracing.
        inputs_note: how the inputs were obtained, for the report header.
        variables: an explicit variable list (the module's ``variables``, a
            SavedModel's restored variables, a GraphDef's
            :class:`~gradflow.loading.GraphVariable` s), or None.
        module: the imported module, searched for module-level variables.
        created: id(tf.Variable) -> (file, line) of the user's code that created
            it, filled while the module is imported and the target traced.
        origin: what the user gave: a Python model file (or the Python API), a
            SavedModel directory, or a GraphDef, which is analysed without running.
        output: the key of the loss in a function's dict of outputs (a SavedModel
            signature), or None when the function returns the loss itself.
        notes: what the report should say about where the target came from.
    """

    source: str | None
    name: str
    kind: TargetKind
    obj: Any
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    feed: dict | None = None
    inputs_note: str = ""
    variables: tuple | None = None
    module: types.ModuleType | None = None
    created: dict = field(default_factory=dict, compare=False, repr=False)
    origin: Origin = "python"
    output: str | None = None
    notes: tuple[str, ...] = ()


def listing(names: list[str]) -> str:
    """``a, b, c (+4 more)``: a short list for an error message."""
    more = f" (+{len(names) - MAX_LISTED} more)" if len(names) > MAX_LISTED else ""
    return ", ".join(names[:MAX_LISTED]) + more
