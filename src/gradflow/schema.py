"""The result types every layer shares: a leaf module, no TensorFlow, no networkx.

Statuses, locations, path counts, blockers and the per-variable and
per-StopGradient reports are frozen dataclasses here; :mod:`gradflow.report`
assembles them into a :class:`~gradflow.report.Report`. Renderers import from
here, so drawing a report never pulls in the analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = ["SCHEMA", "Status", "CutKind", "Location", "PathCount", "Blocker", "VariableReport",
           "StopGradientReport", "OpRef", "LossValue", "find_by_name"]

SCHEMA = "gradflow.report/1"


@dataclass(frozen=True, order=True)
class Location:
    """A place in the user's source: ``file`` as given or relative to the cwd."""

    file: str
    line: int

    def __str__(self) -> str:
        if self.file.startswith("cell ["):  # a Jupyter cell (see sources.notebook_cell)
            return f"{self.file}, line {self.line}"
        return f"{self.file}:{self.line}"

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line}


@dataclass(frozen=True)
class PathCount:
    """Forward paths from a variable to the loss.

    Attributes:
        total: all forward paths (at most the cap).
        blocked: those with at least one edge where the gradient does not pass.
        capped: whether ``total`` reached the cap.
    """

    total: int
    blocked: int
    capped: bool = False

    def to_dict(self) -> dict:
        d = {"total": self.total, "blocked": self.blocked}
        if self.capped:
            d["capped"] = True
        return d


class Status(str, Enum):
    """A variable's verdict; the values are the contract's words."""

    FLOWS = "flows"
    ZERO = "zero"
    NONFINITE = "nonfinite"
    BLOCKED = "blocked"
    DISCONNECTED = "disconnected"

    def __str__(self) -> str:
        return self.value


class CutKind(str, Enum):
    """The kinds of cut; the values are the JSON's words. :mod:`gradflow.cuts` decides which applies."""

    STOP_GRADIENT = "stop_gradient"
    NOT_DIFFERENTIABLE = "not_differentiable"  # ops.NotDifferentiable: no gradient function
    NONE_GRADIENT = "none_gradient"  # the gradient function returns None for this input
    CUSTOM_GRADIENT = "custom_gradient"  # a tf.custom_gradient grad_fn returns None
    INTEGER_OUTPUT = "integer_output"  # the op's results are integers: nothing to carry a gradient
    SHAPE_ONLY = "shape_only"  # Shape, Rank, Size: the op reads its input's shape, not its values
    NO_GRADIENT = "no_gradient"  # nothing registered: tape.gradient raises LookupError
    PREVENT_GRADIENT = "prevent_gradient"  # tf.raw_ops.PreventGradient: raises on backprop

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Blocker:
    """One op where a forward path from a variable to the loss loses its gradient.

    Attributes:
        op: the op's node id in the analysis graph (its name, with the
            function path in front inside a cond/while/function body).
        type: the op type.
        location: the user's line that created it, or None.
        reason: a short human reason ("tf.stop_gradient", "ArgMax has no gradient").
        kind: the cut kind (a :class:`CutKind`; "" for an op with no recorded cut).
        fix: what to do about it (see :mod:`gradflow.fixes`).
    """

    op: str
    type: str
    location: Location | None
    reason: str
    kind: CutKind | str
    fix: str = ""
    decisive: bool | None = None
    origin: str | None = None

    def to_dict(self) -> dict:
        d = {
            "op": self.op,
            "type": self.type,
            "location": self.location.to_dict() if self.location else None,
            "reason": self.reason,
            "fix": self.fix,
            "kind": str(self.kind),
        }
        if self.decisive is not None:
            d["decisive"] = self.decisive
        if self.origin is not None:
            d["origin"] = self.origin
        return d

    def where(self) -> str:
        return str(self.location) if self.location else self.op


@dataclass(frozen=True)
class VariableReport:
    """The verdict on one variable, and its explanation.

    ``expected`` (None for a variable that learns) says whether not learning is
    by design: a non-trainable variable, or one frozen by a single
    ``tf.stop_gradient`` the user wrote; ``expected_reason`` says why (or why not).
    """

    name: str
    shape: tuple | None
    dtype: str
    trainable: bool
    status: Status
    grad_norm: float | None
    paths: PathCount
    blockers: tuple[Blocker, ...]
    why: str
    node: str | None = None
    expected: bool | None = None
    expected_reason: str = ""
    created_at: Location | None = None
    tracked: bool | None = None
    numeric_cause: OpRef | None = None
    layer: str | None = None
    layer_class: str | None = None

    @property
    def partially_blocked(self) -> bool:
        return self.status is Status.FLOWS and self.paths.blocked > 0

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "shape": None if self.shape is None else list(self.shape),
            "dtype": self.dtype,
            "trainable": self.trainable,
            "status": self.status.value,
            "grad_norm": self.grad_norm,
            "paths": self.paths.to_dict(),
            "blockers": [b.to_dict() for b in self.blockers],
            "why": self.why,
            "expected": self.expected,
            "expected_reason": self.expected_reason,
            "created_at": self.created_at.to_dict() if self.created_at else None,
            "tracked": self.tracked,
            **({"numeric_cause": self.numeric_cause.to_dict()} if self.numeric_cause else {}),
            **({"layer": self.layer, "layer_class": self.layer_class} if self.layer is not None else {}),
        }


def find_by_name(items: Any, name: str) -> Any:
    """The item called ``name``; a KeyError listing every name otherwise."""
    for item in items:
        if item.name == name:
            return item
    raise KeyError(f"no variable {name!r}; variables: {', '.join(item.name for item in items)}")


@dataclass(frozen=True)
class StopGradientReport:
    """One ``tf.stop_gradient`` and the variables all of whose paths it cuts."""

    op: str
    location: Location | None
    shields: tuple[str, ...]
    origin: str | None = None

    def to_dict(self) -> dict:
        d = {
            "op": self.op,
            "location": self.location.to_dict() if self.location else None,
            "shields": list(self.shields),
        }
        if self.origin is not None:
            d["origin"] = self.origin
        return d


@dataclass(frozen=True)
class OpRef:
    """One op named for the user: a numeric cause, or where the loss turned non-finite.

    ``reason`` is empty where the op alone is the answer (``first_nonfinite``).
    """

    op: str
    type: str
    location: Location | None
    reason: str = ""

    def to_dict(self) -> dict:
        d = {"op": self.op, "type": self.type,
             "location": self.location.to_dict() if self.location else None}
        if self.reason:
            d["reason"] = self.reason
        return d


@dataclass(frozen=True)
class LossValue:
    """The loss on the example inputs (``value`` None when it is not a number)."""

    value: float | None
    finite: bool
    first_nonfinite: OpRef | None = None

    def to_dict(self) -> dict:
        return {"value": self.value, "finite": self.finite,
                "first_nonfinite": self.first_nonfinite.to_dict() if self.first_nonfinite else None}
