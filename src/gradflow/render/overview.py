"""Problems first: what every output says before any table (TF-free).

One headline verdict ("all 214 trainable variables learn" / "3 of 214
trainable variables get no gradient"), then the problems (a non-finite loss,
trainable variables that do not learn with their decisive cut and fix, cuts
the user wrote), then one line counting what is expected, by kind ("106
BatchNormalization moving statistics, 2 RNG seed states: not trainable,
updated by assign"). The terminal, HTML, Markdown, site and notebook views
all draw from :func:`overview`, so they never disagree.

Also the layer view: variables grouped by the Keras layer, ``tf.Module`` or
name scope that owns them, with its class, parameter count and statuses.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from ..schema import Blocker, Status, StopGradientReport, Untrainable, VariableReport, untrainable_kind

if TYPE_CHECKING:
    from ..report import Report

__all__ = ["Overview", "overview", "expected_kind", "LayerRow", "layer_rows", "decisive_blocker",
           "is_library_cut", "param_count"]

FROZEN = "frozen on purpose"  # a trainable variable cut off by the user's own tf.stop_gradient
# Ops that library code makes on every call (BatchNorm's moments, Dropout's RNG):
# StopGradients and cuts there are TensorFlow's and Keras's design, not the user's.
_LIBRARY_OP = re.compile(r"(^|/)(moments|seed_generator[^/]*|dropout[^/]*|random_[a-z_]*|"
                         r"stateless_random[^/]*|normalization[^/]*)(/|$)|StatelessRandom|RandomUniform|"
                         r"SeedGenerator|FloorMod", re.IGNORECASE)


# BatchNormalization's and LayerNormalization's mean/variance: the StopGradient of tf.nn.moments.
_MOMENTS = re.compile(r"(^|/)moments(_\d+)?/")


def param_count(v: VariableReport) -> int:
    """How many numbers a variable holds (0 when its shape is unknown)."""
    if v.shape is None or any(d is None for d in v.shape):
        return 0
    return int(math.prod(v.shape)) if v.shape else 1


def expected_kind(v: VariableReport) -> "Untrainable | str":
    """Why a variable that does not learn is expected not to: its kind, for the counting line."""
    if v.trainable:
        return FROZEN
    return untrainable_kind(v.name, layer_class=v.layer_class)


def is_library_cut(op: str, origin: str | None, location: object = None) -> bool:
    """Whether a cut belongs to library code (``origin`` when known, else the op's name)."""
    if origin is not None:
        return origin != "user"
    return bool(_LIBRARY_OP.search(op))


def decisive_blocker(v: VariableReport) -> Blocker | None:
    """The cut to fix first: the decisive one when known, else the first the user wrote, else the first."""
    if not v.blockers:
        return None
    for b in v.blockers:
        if b.decisive:
            return b
    for b in v.blockers:
        if b.origin == "user" or (b.origin is None and b.location is not None
                                  and not is_library_cut(b.op, b.origin)):
            return b
    return v.blockers[0]


def _is_problem(v: VariableReport) -> bool:
    return v.trainable and v.status is not Status.FLOWS and v.expected is not True


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


@dataclass(frozen=True)
class Overview:
    """What a report says first.

    Attributes:
        headline: the one-line verdict.
        healthy: no problem at all (every trainable variable learns or is frozen on purpose,
            the loss is finite).
        trainable: how many trainable variables there are.
        loss_problem: a sentence about a non-finite loss, or "".
        problems: trainable variables that do not learn and are not expected to, worst first.
        user_cuts: ``tf.stop_gradient`` ops the user wrote, with the variables each shields.
        expected: (count, kind) of the variables that do not learn by design.
        expected_line: those counts as one sentence, or "".
        library_cuts: how many StopGradient ops library code made (BatchNorm moments...).
    """

    headline: str
    healthy: bool
    trainable: int
    loss_problem: str
    problems: tuple[VariableReport, ...]
    user_cuts: tuple[StopGradientReport, ...]
    expected: "tuple[tuple[int, Untrainable | str], ...]"
    expected_line: str
    library_cuts: int
    frozen: tuple[VariableReport, ...] = field(default=())


def overview(report: "Report") -> Overview:
    """The problems-first summary of ``report``."""
    variables = list(report.variables)
    trainable = [v for v in variables if v.trainable]
    order = {Status.NONFINITE: 0, Status.BLOCKED: 1, Status.ZERO: 2, Status.DISCONNECTED: 3, Status.FLOWS: 4}
    problems = tuple(sorted((v for v in variables if _is_problem(v)), key=lambda v: order[v.status]))
    frozen = tuple(v for v in trainable if v.status is not Status.FLOWS and v.expected is True)
    loss_problem = ""
    loss = report.loss
    if loss is not None and not loss.finite:
        loss_problem = "the loss is not finite on the example inputs"
        if loss.value is not None:
            loss_problem = f"the loss is {loss.value} on the example inputs"
        if loss.first_nonfinite is not None:
            ref = loss.first_nonfinite
            where = f" at {ref.location}" if ref.location else f" ({ref.op})"
            loss_problem += f"; it first turns non-finite in {ref.type}{where}"
            if ref.reason:
                loss_problem += f" ({ref.reason})"
    n = len(trainable)
    noun = "trainable variable" if n == 1 else "trainable variables"
    if problems:
        verb = ("gets no gradient" if len(problems) == 1 else "get no gradient") if all(
            v.status in (Status.BLOCKED, Status.DISCONNECTED) for v in problems) else (
            "does not learn" if len(problems) == 1 else "do not learn")
        headline = f"{len(problems)} of {n} {noun} {verb}"
    elif n == 0:
        headline = "no trainable variables"
    elif frozen:
        learning = n - len(frozen)
        headline = f"{learning} of {n} {noun} learn; {len(frozen)} frozen on purpose"
    elif n == 1:
        headline = "the 1 trainable variable learns"
    else:
        headline = f"all {n} {noun} learn"
    if loss_problem:
        headline += "; the loss is not finite"
    counts: "OrderedDict[Untrainable | str, int]" = OrderedDict((k, 0) for k in (*Untrainable, FROZEN))
    for v in variables:
        if v.status is Status.FLOWS or _is_problem(v):
            continue
        counts[expected_kind(v)] += 1
    expected = tuple((c, k) for k, c in counts.items() if c)
    user_cuts, library, moments = [], 0, 0
    for sg in report.stop_gradients:
        if is_library_cut(sg.op, sg.origin, sg.location):
            library += 1
            moments += bool(_MOMENTS.search(sg.op))
        else:
            user_cuts.append(sg)
    kinds = [(c, k) for c, k in expected if k != FROZEN]
    line = ""
    if kinds:
        tail = "not trainable, updated by assign" if all(k.assigned for c, k in kinds) else "not trainable"
        line = f"{', '.join(k.counted(c) for c, k in kinds)}: {tail}"
    reached = sum(v.status is Status.FLOWS and not v.trainable for v in variables)
    if reached:  # a layer set trainable=False: TensorFlow has its gradient, the optimizer skips it
        extra = (f"{_plural(reached, 'non-trainable variable')} that the gradient reaches "
                 "(trainable=False: the optimizer skips them)")
        line = f"{line}; {extra}" if line else extra
    if library:
        where = ("in normalization layers' moments" if moments == library else
                 "in library code" if not moments else
                 f"{moments} in normalization layers' moments, {library - moments} elsewhere in library code")
        extra = f"{_plural(library, 'library StopGradient')} ({where})"
        line = f"{line}; {extra}" if line else extra
    healthy = not problems and not loss_problem
    return Overview(headline=headline, healthy=healthy, trainable=n, loss_problem=loss_problem,
                    problems=problems, user_cuts=tuple(user_cuts), expected=expected, expected_line=line,
                    library_cuts=library, frozen=frozen)


# -- the layer view -----------------------------------------------------------------
@dataclass(frozen=True)
class LayerRow:
    """One owner (Keras layer, ``tf.Module`` or name scope) and its variables."""

    name: str
    layer_class: str
    params: int
    variables: tuple[VariableReport, ...]

    @property
    def problems(self) -> tuple[VariableReport, ...]:
        return tuple(v for v in self.variables if _is_problem(v))

    def status_text(self) -> str:
        """``2 flow`` / ``1 blocked, 1 flows`` / ``2 not trainable``: counts, problems first."""
        bits = []
        problems = self.problems
        for s in (Status.NONFINITE, Status.BLOCKED, Status.ZERO, Status.DISCONNECTED):
            c = sum(v.status is s for v in problems)
            if c:
                bits.append(f"{c} {s.value}")
        learn = sum(v.status is Status.FLOWS and v.trainable for v in self.variables)
        if learn:
            bits.append(f"{learn} learn" if learn != 1 else "1 learns")
        frozen = sum(v.trainable and v.status is not Status.FLOWS and v.expected is True for v in self.variables)
        if frozen:
            bits.append(f"{frozen} frozen on purpose")
        fixed = sum(not v.trainable for v in self.variables)
        if fixed:
            bits.append(f"{fixed} not trainable")
        return ", ".join(bits)


def layer_of(v: VariableReport) -> str:
    """The owner's name: the layer path when tracing found it, else the variable's name scope."""
    if v.layer:
        return v.layer
    return v.name.rsplit("/", 1)[0] if "/" in v.name else "(top level)"


def layer_rows(variables: Sequence[VariableReport]) -> list[LayerRow]:
    """Variables grouped by owner, in first-seen order."""
    groups: "OrderedDict[str, list[VariableReport]]" = OrderedDict()
    for v in variables:
        groups.setdefault(layer_of(v), []).append(v)
    rows = []
    for name, members in groups.items():
        cls = next((v.layer_class for v in members if v.layer_class), "") or ""
        rows.append(LayerRow(name, cls, sum(param_count(v) for v in members), tuple(members)))
    return rows
