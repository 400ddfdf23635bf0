"""The result types every layer shares: a leaf module, no TensorFlow, no networkx.

Statuses, locations, path counts, blockers and the per-variable and
per-StopGradient reports are frozen dataclasses here; :mod:`gradflow.report`
assembles them into a :class:`~gradflow.report.Report`. Renderers import from
here, so drawing a report never pulls in the analysis.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Sequence

__all__ = ["SCHEMA", "NO_NUMERIC_CHECK", "Status", "CutKind", "Location", "PathCount", "Blocker", "VariableReport",
           "StopGradientReport", "OpRef", "LossValue", "find_by_name", "select", "shape_text",
           "STATUS_WORDS", "PROBLEM_WORDS", "Untrainable", "untrainable_kind"]

SCHEMA = "gradflow.report/1"
# What every view says when ``Report.numeric`` is False (the notes say why).
NO_NUMERIC_CHECK = ("no numeric check ran: no gradient norms, and a zero or nonfinite gradient "
                    "reads as flows (see the notes)")


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


# The status words in the contract's order, and those that are a problem in the order reports list them.
STATUS_WORDS = tuple(s.value for s in Status)
PROBLEM_WORDS = tuple(s.value for s in (Status.BLOCKED, Status.DISCONNECTED, Status.ZERO, Status.NONFINITE))


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
        decisive: part of a smallest set of cuts separating the variable from
            the loss (None where not computed: a flowing variable's cuts).
        origin: ``"user"`` or ``"library:NAME"``: who created the op.
        call: for a library cut, the API the user's line called
            (``"Bernoulli.sample"``); words the reason, not serialised.
    """

    op: str
    type: str
    location: Location | None
    reason: str
    kind: CutKind | str
    fix: str = ""
    decisive: bool | None = None
    origin: str | None = None
    call: str | None = field(default=None, compare=False)

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

    @property
    def is_users(self) -> bool:
        """A cut the user wrote (or, where no origin is known, one at a line of theirs)."""
        return self.origin == "user" or (self.origin is None and self.location is not None)

    def where(self) -> str:
        return str(self.location) if self.location else self.op

    def headline(self) -> str:
        """``"tf.stop_gradient at model.py:21"``; a library cut names the user's call:
        ``"Bernoulli.sample at model.py:26: a sample of a discrete distribution has no gradient"``."""
        if self.call and self.origin and self.origin.startswith("library:"):
            return f"{self.call} at {self.where()}: {self.reason}"
        return f"{self.reason} at {self.where()}"


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
        """It learns, but a cut of the user's cuts some of its paths (a library's own cuts,
        LayerNorm moments, do not count; ``paths`` still counts every path)."""
        return self.status is Status.FLOWS and self.paths.blocked > 0 and any(b.is_users for b in self.blockers)

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


def shape_text(dims: Sequence[int | None] | None, unknown: str = "?") -> str:
    """A shape as the reports write it: ``[2, ?, 3]``; ``unknown`` when the rank is not known.

    Examples:
        >>> shape_text((2, None, 3)), shape_text(None), shape_text(()), shape_text(None, "[...]")
        ('[2, ?, 3]', '?', '[]', '[...]')
    """
    if dims is None:
        return unknown
    return "[" + ", ".join("?" if d is None else str(d) for d in dims) + "]"


def select(items: Any, patterns: str | Sequence[str]) -> list:
    """The items (anything with a ``name``) that ``patterns`` name, in the items' order.

    A pattern is an exact name or else an :mod:`fnmatch` glob (``"dense/*"``).

    Raises:
        KeyError: a pattern matches nothing; the message lists the names.

    Examples:
        >>> from types import SimpleNamespace as N
        >>> [v.name for v in select([N(name="a/w"), N(name="a/b"), N(name="c")], ["c", "a/*"])]
        ['c', 'a/w', 'a/b']
    """
    items = list(items)
    chosen: list = []
    for pattern in [patterns] if isinstance(patterns, str) else patterns:
        hits = [item for item in items if item.name == pattern] or [
            item for item in items if fnmatch.fnmatchcase(item.name, pattern)]
        if not hits:
            names = ", ".join(item.name for item in items)
            raise KeyError(f"no variable matches {pattern!r}; variables: {names}")
        chosen.extend(item for item in hits if item not in chosen)
    return chosen


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


class Untrainable(Enum):
    """What a non-trainable variable is: one classification for its ``why`` and the counting line.

    Each member's value is ``(noun, plural, why)``; :attr:`assigned` kinds change by assign
    (or the optimizer), never by a gradient.
    """

    BN_STATISTIC = ("BatchNormalization moving statistic", "BatchNormalization moving statistics",
                    "BatchNormalization moving statistic: updated by assign, not by a gradient")
    NORMALIZATION_STATISTIC = ("normalization statistic", "normalization statistics",
                               "Normalization layer statistic: adapted from data, not learned by a gradient")
    SEED = ("RNG seed state", "RNG seed states", "random-number seed state: advanced by assign, not by a gradient")
    COUNTER = ("counter", "counters", "a step counter: incremented by assign, not by a gradient")
    METRIC = ("metric state", "metric states", "a metric's running state: accumulated by assign, not by a gradient")
    OPTIMIZER_SLOT = ("optimizer slot", "optimizer slots",
                      "an optimizer slot: updated by the optimizer, not by a gradient")
    LORA_BASE = ("base kernel frozen by LoRA", "base kernels frozen by LoRA",
                 "base kernel frozen by LoRA (enable_lora): lora_kernel_a and lora_kernel_b learn instead")
    OTHER = ("other non-trainable variable", "other non-trainable variables",
             "trainable=False: not meant to learn from the gradient")

    @property
    def why(self) -> str:
        return self.value[2]

    def counted(self, n: int) -> str:
        """``1 RNG seed state`` / ``2 RNG seed states``."""
        return f"{n} {self.value[0] if n == 1 else self.value[1]}"

    @property
    def assigned(self) -> bool:
        return self not in (Untrainable.LORA_BASE, Untrainable.OTHER)


def untrainable_kind(name: str, *, layer_class: str | None = None, others: Sequence[str] = ()) -> Untrainable:
    """What the non-trainable variable ``name`` is, from its name and its owning layer's class.

    Examples:
        >>> untrainable_kind("bn/moving_mean").why
        'BatchNormalization moving statistic: updated by assign, not by a gradient'
        >>> untrainable_kind("dropout/seed_generator_state").counted(2)
        '2 RNG seed states'
        >>> untrainable_kind("norm/count", layer_class="Normalization").name
        'NORMALIZATION_STATISTIC'
        >>> untrainable_kind("dense/kernel", others=["dense/lora_kernel_a", "dense/kernel"]).name
        'LORA_BASE'
    """
    base = name.split("#", 1)[0]
    leaf = base.rsplit("/", 1)[-1]
    scope = base.rsplit("/", 1)[0] if "/" in base else ""
    cls = (layer_class or "").lower()
    if {"moving_mean", "moving_variance", "moving_stddev"} & set(base.split("/")) or (
            "batchnorm" in cls and leaf in ("mean", "variance")):
        return Untrainable.BN_STATISTIC
    if leaf in ("mean", "variance", "count") and "normalization" in cls:
        return Untrainable.NORMALIZATION_STATISTIC
    if "seed" in leaf or "rng" in leaf.lower() or "seed_generator" in base.lower():
        return Untrainable.SEED
    if leaf in ("iter", "iteration", "iterations", "_iterations", "global_step", "step", "counter"):
        return Untrainable.COUNTER
    if leaf in ("total", "count") or "metric" in base.lower():
        return Untrainable.METRIC
    if "optimizer" in base or leaf in ("momentum", "velocity") or leaf.startswith(("m_", "v_")):
        return Untrainable.OPTIMIZER_SLOT
    if leaf in ("kernel", "embeddings") and any(o == f"{scope}/lora_kernel_a" or o.endswith(f"{scope}/lora_kernel_a")
                                                for o in others):
        return Untrainable.LORA_BASE
    return Untrainable.OTHER
