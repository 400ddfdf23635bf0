"""``gradflow train``: run real optimizer steps and watch every variable move, or not.

``gradflow inspect`` says which variables *can* learn. ``train`` runs N real
optimizer steps on the model file's loss and records, per step, the loss, every
variable's value and every gradient's norm, then gives each variable a verdict:

========== ==============================================================
verdict    meaning
========== ==============================================================
moved      at least one bit of its value changed during training
frozen     its value is unchanged to the last bit
diverged   its value became NaN or Inf
========== ==============================================================

and checks it against the static verdict of ``inspect`` (a ``blocked``
variable that moved, or a ``flows`` variable that stayed frozen, is flagged and
explained). The step is built here, fresh: ``tf.GradientTape`` around the
target, then ``optimizer.apply_gradients`` (Keras optimizers), or, for a TF1
graph, the file's own ``train_op`` or a ``tf.compat.v1.train`` optimizer.

Steps are counted from 1. Step k computes the loss and the gradients on the
values left by step k-1 and then updates them; ``values[0]`` holds the initial
values and ``values[k]`` the values after step k. See ``docs/train.md``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from .errors import InputsError, TraceError, TrainOptionsError, UserError

__all__ = [
    "train",
    "train_file",
    "cli_train",
    "TrainReport",
    "VariableRun",
    "WatchRun",
    "OptimizerInfo",
    "TrainOptionsError",
    "SCHEMA",
    "VERDICTS",
]

SCHEMA = "gradflow.train/1"
VERDICTS = ("moved", "frozen", "diverged")
OPTIMIZERS = ("sgd", "adam", "rmsprop")
DEFAULT_STEPS = 100
DEFAULT_LR = 0.1
DEFAULT_OPTIMIZER = "sgd"
SMALL_VARIABLE = 16  # variables up to this many elements are recorded element by element
SAMPLED_ELEMENTS = 5  # ...larger ones by norm, mean and this many fixed elements
SEED = 0
BATCHES_ATTR = "example_batches"
WATCH_ATTR = "train_watch"
TRAIN_OP_ATTR = "train_op"
PLOT_SUFFIXES = (".svg", ".png", ".pdf")
TIMING_KEYS = ("load_s", "static_s", "train_s", "render_s")

# Op types that write a variable's value. Optimizer kernels (Apply*) write a
# gradient step; everything else (Assign*, Scatter*) is some other update.
_OPTIMIZER_WRITE_PREFIXES = ("Apply", "ResourceApply", "SparseApply", "ResourceSparseApply")
_OTHER_WRITE_PREFIXES = ("Assign", "Scatter", "ResourceScatter")


# ---------------------------------------------------------------------------
# The result: plain Python, TF-free


@dataclass(frozen=True)
class OptimizerInfo:
    """What updated the variables.

    Attributes:
        name: ``sgd``, ``adam``, ``rmsprop``, the Keras/TF1 class name of a
            model's or caller's optimizer, or ``train_op``.
        learning_rate: the learning rate, when there is one number.
        origin: ``gradflow`` (built from --optimizer/--lr), ``model`` (a clone of
            the compiled model's own optimizer), ``train_op`` (the TF1 file's
            own train op) or ``given`` (an optimizer object passed to ``train``).
        weight_decay: the optimizer's weight decay, when it has one.
    """

    name: str
    learning_rate: float | None
    origin: str
    weight_decay: float | None = None

    def describe(self) -> str:
        if self.origin == "train_op":
            return "the file's own train_op"
        parts = [self.name]
        if self.learning_rate is not None:
            parts.append(f"lr {_fmt(self.learning_rate)}")
        if self.weight_decay:
            parts.append(f"weight decay {_fmt(self.weight_decay)}")
        text = parts[0] + (f" ({', '.join(parts[1:])})" if len(parts) > 1 else "")
        if self.origin == "model":
            text += ", the model's own"
        return text

    def to_dict(self) -> dict:
        return {"name": self.name, "learning_rate": self.learning_rate, "origin": self.origin,
                "weight_decay": self.weight_decay}


@dataclass(frozen=True)
class VariableRun:
    """One variable's trajectory, its verdict and how that compares with ``inspect``.

    Attributes:
        name: the name used by ``gradflow inspect``.
        shape, dtype, trainable: as in the inspect report.
        size: its number of elements.
        trained: whether the optimizer was given it (trainable and float).
        static_status: the inspect verdict (``flows``, ``zero``, ...), or None.
        static_why: the inspect report's explanation.
        indices: the flat indices recorded in ``values`` (all of them for a
            variable of at most 16 elements, else a few evenly spaced ones).
        values: ``steps + 1`` rows (row 0 the initial value) of those elements.
        norms, means: ``steps + 1`` L2 norms and means of the whole value.
        grad_norms, grad_abs_means, grad_abs_maxes: ``steps`` entries, or None
            when TensorFlow gives the variable no gradient (None) at all.
        first_nonfinite_grad_step: the first step whose gradient held NaN/Inf.
        first_nonfinite_value_step: the first step after which the value held NaN/Inf.
        changed_steps: how many steps changed at least one bit of the value.
        delta_norm: ``||end - start||`` (NaN when either holds NaN/Inf).
        verdict: ``moved``, ``frozen`` or ``diverged``.
        agrees: whether the verdict is what the static verdict predicts.
        explanation: why, in a sentence.
        writers: ops other than an optimizer step that write the variable.
    """

    name: str
    shape: tuple | None
    dtype: str
    trainable: bool
    size: int
    trained: bool
    static_status: str | None
    static_why: str
    indices: tuple[int, ...]
    values: tuple[tuple[float, ...], ...]
    norms: tuple[float, ...]
    means: tuple[float, ...]
    grad_norms: tuple[float, ...] | None
    grad_abs_means: tuple[float, ...] | None
    grad_abs_maxes: tuple[float, ...] | None
    first_nonfinite_grad_step: int | None
    first_nonfinite_value_step: int | None
    changed_steps: int
    delta_norm: float
    verdict: str
    agrees: bool
    explanation: str
    writers: tuple[str, ...] = ()

    @property
    def sampled(self) -> bool:
        """Whether only some elements were recorded (the variable is large)."""
        return len(self.indices) < self.size

    @property
    def start_norm(self) -> float:
        return self.norms[0]

    @property
    def end_norm(self) -> float:
        return self.norms[-1]

    @property
    def max_grad_norm(self) -> float | None:
        """The largest finite gradient norm over the run (None without a gradient)."""
        if self.grad_norms is None:
            return None
        finite = [g for g in self.grad_norms if math.isfinite(g)]
        return max(finite) if finite else math.nan

    def to_dict(self) -> dict:
        shorten = _shortener(self.dtype)
        grad = None
        if self.grad_norms is not None:
            grad = {
                "norm": [_num(g) for g in self.grad_norms],
                "abs_mean": [_num(g) for g in self.grad_abs_means or ()],
                "abs_max": [_num(g) for g in self.grad_abs_maxes or ()],
                "max_norm": _num(self.max_grad_norm),
            }
        return {
            "name": self.name,
            "shape": None if self.shape is None else list(self.shape),
            "dtype": self.dtype,
            "trainable": self.trainable,
            "trained": self.trained,
            "static": {"status": self.static_status, "why": self.static_why},
            "verdict": self.verdict,
            "agrees": self.agrees,
            "explanation": self.explanation,
            "start": {"norm": _num(self.norms[0]), "mean": _num(self.means[0]),
                      "values": [_num(v, shorten) for v in self.values[0]]},
            "end": {"norm": _num(self.norms[-1]), "mean": _num(self.means[-1]),
                    "values": [_num(v, shorten) for v in self.values[-1]]},
            "change_norm": _num(self.delta_norm),
            "changed_steps": self.changed_steps,
            "first_nonfinite_grad_step": self.first_nonfinite_grad_step,
            "first_nonfinite_value_step": self.first_nonfinite_value_step,
            "writers": list(self.writers),
            "recorded": {"elements": "all" if not self.sampled else "sampled",
                         "indices": list(self.indices)},
            "trajectory": {
                "values": [[_num(v, shorten) for v in row] for row in self.values],
                "norm": [_num(v) for v in self.norms],
                "mean": [_num(v) for v in self.means],
            },
            "grad": grad,
        }


@dataclass(frozen=True)
class WatchRun:
    """A watched expression (``train_watch``), evaluated like a variable at every step."""

    label: str
    shape: tuple | None
    size: int
    indices: tuple[int, ...]
    values: tuple[tuple[float, ...], ...]

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "shape": None if self.shape is None else list(self.shape),
            "indices": list(self.indices),
            "values": [[_num(v) for v in row] for row in self.values],
        }


@dataclass(frozen=True)
class TrainReport:
    """What N optimizer steps did to every variable, next to the ``inspect`` verdicts.

    Print it (rich) for the terminal table; ``to_dict()`` is the
    ``gradflow.train/1`` JSON object; ``plot(path)`` draws the trajectories.

    Attributes:
        source: the model file, or None from the Python API.
        target: the target's name.
        kind: ``callable``, ``keras`` or ``tf1``.
        inputs: how the example inputs were obtained.
        batches: what each step was fed.
        optimizer: what updated the variables.
        steps: the number of optimizer steps.
        loss: ``steps`` loss values; step k's is computed before its update.
        variables: one :class:`VariableRun` per variable, in inspect's order.
        watches: the watched expressions, if the file defines ``train_watch``.
        first_nonfinite_step: the first step whose loss or any gradient held NaN/Inf.
        notes: things worth saying.
        static: the ``gradflow inspect`` report of the same target.
        timings: seconds per stage; the only field that varies between runs.
    """

    source: str | None
    target: str
    kind: str
    inputs: str
    batches: str
    optimizer: OptimizerInfo
    steps: int
    loss: tuple[float, ...]
    variables: tuple[VariableRun, ...]
    watches: tuple[WatchRun, ...] = ()
    first_nonfinite_step: int | None = None
    notes: tuple[str, ...] = ()
    loss_dtype: str = "float32"
    static: Any = field(default=None, compare=False, repr=False)
    timings: dict = field(default_factory=dict, compare=False)

    # -- queries -------------------------------------------------------------
    def variable(self, name: str) -> VariableRun:
        """The run of the variable called ``name``.

        Raises:
            KeyError: no such variable; the message lists the names.
        """
        from .report import find_by_name

        return find_by_name(self.variables, name)

    def verdict(self, name: str) -> str:
        """The verdict (``moved``, ``frozen``, ``diverged``) of the variable called ``name``."""
        return self.variable(name).verdict

    @property
    def summary(self) -> dict[str, int]:
        counts = {v: 0 for v in VERDICTS}
        for run in self.variables:
            counts[run.verdict] += 1
        counts["disagreements"] = sum(not run.agrees for run in self.variables)
        return counts

    @property
    def disagreements(self) -> tuple[VariableRun, ...]:
        """The variables whose behaviour is not what ``inspect`` predicts."""
        return tuple(run for run in self.variables if not run.agrees)

    def headline(self) -> str:
        s = self.summary
        text = f"{s['moved']} moved, {s['frozen']} frozen, {s['diverged']} diverged"
        if s["disagreements"]:
            n = s["disagreements"]
            return text + f"  ·  {n} disagreement{'s' if n != 1 else ''} with inspect"
        return text + "  ·  every verdict agrees with inspect"

    # -- outputs -------------------------------------------------------------
    def to_dict(self) -> dict:
        """The ``gradflow.train/1`` object (see ``docs/train.md``)."""
        shorten = _shortener(self.loss_dtype)
        return {
            "schema": SCHEMA,
            "source": self.source,
            "target": self.target,
            "kind": self.kind,
            "inputs": self.inputs,
            "batches": self.batches,
            "optimizer": self.optimizer.to_dict(),
            "steps": self.steps,
            "loss": [_num(v, shorten) for v in self.loss],
            "first_nonfinite_step": self.first_nonfinite_step,
            "variables": [v.to_dict() for v in self.variables],
            "watch": [w.to_dict() for w in self.watches],
            "summary": self.summary,
            "static_summary": self.static.summary if self.static is not None else None,
            "notes": list(self.notes),
            "timings": {k: round(float(self.timings.get(k, 0.0)), 4) for k in TIMING_KEYS},
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def figure(self, **options: Any) -> Any:
        """The trajectory figure (a ``matplotlib.figure.Figure``); see :func:`gradflow.render.plots.trajectory_figure`."""
        from .render.plots import trajectory_figure

        return trajectory_figure(self, **options)

    def plot(self, path: str, **options: Any) -> str:
        """Draw trajectories, gradient norms and the loss to ``path`` (.svg, .png or .pdf)."""
        from .render.plots import write_figure

        return write_figure(self.figure(**options), path)

    def plot_layers(self, path: str) -> str:
        """Draw mean and max |gradient| per layer at the first and last step to ``path``."""
        from .render.plots import layer_figure, write_figure

        return write_figure(layer_figure(self), path)

    def _repr_svg_(self) -> str:
        from .render.plots import figure_svg

        return figure_svg(self.figure())

    def __rich__(self) -> Any:
        return train_renderable(self)

    def __str__(self) -> str:
        from rich.console import Console

        console = Console(width=110, color_system=None, force_terminal=False)
        with console.capture() as capture:
            console.print(train_renderable(self))
        return capture.get()


# ---------------------------------------------------------------------------
# Numbers


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value == 0:
        return "0"
    return f"{value:.3g}"


def _shortener(dtype: str) -> Callable[[float], float] | None:
    """Values of a 32-bit or narrower float are written with the shortest decimal that round-trips."""
    if dtype not in ("float32", "float16", "bfloat16"):
        return None
    import numpy as np

    return lambda v: float(repr(np.float32(v)).removeprefix("np.float32(").removesuffix(")"))


def _num(value: float | None, shorten: Callable[[float], float] | None = None) -> Any:
    """A JSON-safe number: NaN and infinities become the strings "NaN", "Infinity", "-Infinity"."""
    if value is None:
        return None
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return shorten(value) if shorten else value


# ---------------------------------------------------------------------------
# Verdicts


def decide_verdict(first_nonfinite_value_step: int | None, changed_steps: int) -> str:
    """``diverged`` if the value ever held NaN/Inf, else ``moved`` if any bit changed, else ``frozen``.

    >>> decide_verdict(None, 0), decide_verdict(None, 3), decide_verdict(7, 7)
    ('frozen', 'moved', 'diverged')
    """
    if first_nonfinite_value_step is not None:
        return "diverged"
    return "moved" if changed_steps else "frozen"


def judge(*, verdict: str, static: str | None, trained: bool, grad_norms: Sequence[float] | None,
          first_nonfinite_grad_step: int | None, first_nonfinite_value_step: int | None,
          writers: Sequence[str] = (), weight_decay: float | None = None,
          train_op: bool = False, updated_by_train_op: bool | None = None) -> tuple[bool, str]:
    """Whether ``verdict`` is what the static verdict predicts, and why.

    A trained variable is expected to move when its gradient ``flows``, to stay
    frozen when it is ``zero``, ``blocked`` or ``disconnected``, and to diverge
    when it is ``nonfinite``. A variable the optimizer is not given is
    expected to stay frozen, unless the model updates it itself (BatchNorm
    statistics, an RNG state), which agrees too.

    Returns:
        ``(agrees, explanation)``.
    """
    grads = [g for g in (grad_norms or ()) if math.isfinite(g)]
    nonzero_step = next((i + 1 for i, g in enumerate(grad_norms or ()) if math.isfinite(g) and g > 0), None)
    writer_text = ", ".join(writers[:3]) + (" ..." if len(writers) > 3 else "")
    if not trained:
        if verdict == "frozen":
            return True, "not trained: the optimizer is not given it, and nothing else wrote it"
        if verdict == "moved":
            by = f" ({writer_text})" if writers else ""
            return True, f"not trained by the optimizer; the model updates it itself{by}, e.g. BatchNorm statistics"
        return False, (f"not trained by the optimizer, yet it turned NaN/Inf after step "
                       f"{first_nonfinite_value_step}: the model's own update{' (' + writer_text + ')' if writers else ''} poisoned it")
    if static is None:
        return True, "no static verdict to compare with"
    if static == "flows":
        if verdict == "moved":
            return True, "its gradient flows and it learns, as inspect predicts"
        if verdict == "frozen":
            if train_op and updated_by_train_op is False:
                return False, ("inspect finds a gradient, but train_op never updates it (it is not in the "
                               "optimizer's var_list, or it is not trainable there)")
            if not grads or max(grads) == 0:
                return False, ("inspect finds a nonzero gradient on the example inputs, but it was zero at "
                               "every training step: the zero comes from the training batches or the values reached")
            return False, (f"it has a gradient (max norm {_fmt(max(grads))}) but never changed: every update "
                           "was below its float precision (raise the learning rate), or the optimizer skipped it")
        return False, _diverged_text(first_nonfinite_grad_step, first_nonfinite_value_step,
                                     "its gradient was finite on the example inputs, but training diverged")
    if static == "zero":
        if verdict == "frozen":
            return True, "its gradient is all zero, so it stays frozen, as inspect predicts"
        if verdict == "moved":
            if nonzero_step is not None:
                return False, (f"its gradient is zero on the example inputs but nonzero at step {nonzero_step}: "
                               "the zero holds only for those inputs or those values")
            if weight_decay:
                return False, (f"its gradient is all zero, yet weight decay ({_fmt(weight_decay)}) shrinks it at "
                               "every step: the optimizer decays every variable that has a gradient tensor, even a zero one")
            return False, _other_writer_text("its gradient is all zero, yet it moved", writers, writer_text, train_op)
        return False, _diverged_text(first_nonfinite_grad_step, first_nonfinite_value_step,
                                     "its gradient is zero on the example inputs, yet it diverged")
    if static == "nonfinite":
        if verdict == "diverged":
            return True, (f"its gradient holds NaN/Inf, which poisoned it after step {first_nonfinite_value_step}, "
                          "as inspect predicts")
        if first_nonfinite_grad_step is None:
            return False, ("its gradient holds NaN/Inf on the example inputs but stayed finite while training: "
                           "the poison is specific to those inputs or those values")
        return False, (f"its gradient turned NaN/Inf at step {first_nonfinite_grad_step}, but the optimizer "
                       "did not write it into the value")
    # blocked or disconnected: no gradient from the loss at all
    why = "no gradient reaches it" if static == "blocked" else "the loss never reads it"
    if verdict == "frozen":
        return True, f"{why} ({static}), so it stays frozen, as inspect predicts"
    if verdict == "moved":
        return False, _other_writer_text(f"{why} ({static}), yet it moved", writers, writer_text, train_op)
    return False, _other_writer_text(
        f"{why} ({static}), yet it turned NaN/Inf after step {first_nonfinite_value_step}",
        writers, writer_text, train_op)


def _diverged_text(grad_step: int | None, value_step: int | None, lead: str) -> str:
    if grad_step is not None:
        return (f"{lead}: its gradient first held NaN/Inf at step {grad_step} and the value after step "
                f"{value_step}; try a smaller learning rate")
    return f"{lead}: its value overflowed to NaN/Inf after step {value_step}; try a smaller learning rate"


def _other_writer_text(lead: str, writers: Sequence[str], writer_text: str, train_op: bool) -> str:
    if writers:
        where = "train_op" if train_op else "the training step"
        return (f"{lead}: it is written by {writer_text}, an update in {where} that is not the loss's "
                "gradient (weight decay, a counter, a moving average...)")
    return (f"{lead}: something other than the loss's gradient wrote it, e.g. weight decay applied to "
            "every variable, another update in the train op, or an assign in the model code")


# ---------------------------------------------------------------------------
# Recording


class _Recorder:
    """Collects values, gradient statistics and losses step by step (numpy in, tuples out)."""

    def __init__(self, refs: list, trained: set[str]) -> None:
        import numpy as np

        self.refs = refs
        self.trained = trained
        self.indices: dict[str, Any] = {}
        self.values: dict[str, list] = {r.name: [] for r in refs}
        self.norms: dict[str, list] = {r.name: [] for r in refs}
        self.means: dict[str, list] = {r.name: [] for r in refs}
        self.sizes: dict[str, int] = {}
        self.grads: dict[str, list | None] = {}
        self.first_bad_grad: dict[str, int | None] = {r.name: None for r in refs}
        self.first_bad_value: dict[str, int | None] = {r.name: None for r in refs}
        self.changed: dict[str, int] = {r.name: 0 for r in refs}
        self.first: dict[str, Any] = {}
        self.last: dict[str, bytes] = {}
        self.loss: list[float] = []
        self.first_bad_step: int | None = None
        self._np = np

    def values_at(self, step: int, arrays: Sequence[Any]) -> None:
        np = self._np
        for ref, array in zip(self.refs, arrays):
            array = np.asarray(array)
            name = ref.name
            flat = array.reshape(-1)
            if name not in self.indices:
                self.sizes[name] = flat.size
                self.indices[name] = sample_indices(flat.size)
                self.first[name] = array.copy()
            numeric = _as_float64(flat)
            idx = self.indices[name]
            self.values[name].append(tuple(float(v) for v in numeric[idx]))
            with np.errstate(all="ignore"):
                self.norms[name].append(float(np.sqrt(np.sum(np.square(np.abs(numeric))))) if flat.size else 0.0)
                self.means[name].append(float(np.mean(numeric.real)) if flat.size else 0.0)
            if self.first_bad_value[name] is None and not _all_finite(flat):
                self.first_bad_value[name] = step
            raw = flat.tobytes()
            if step > 0 and raw != self.last[name]:
                self.changed[name] += 1
            self.last[name] = raw

    def step_at(self, step: int, loss: Any, grad_stats: dict[str, Any]) -> None:
        """``grad_stats``: name -> (norm, abs_mean, abs_max, finite) for variables with a gradient."""
        np = self._np
        value = float(np.sum(np.real(np.asarray(loss, dtype=np.complex128 if np.iscomplexobj(loss) else np.float64))))
        self.loss.append(value)
        bad = not math.isfinite(value)
        for name, stats in grad_stats.items():
            series = self.grads.setdefault(name, [])
            norm, mean, big, finite = (float(stats[0]), float(stats[1]), float(stats[2]), bool(stats[3]))
            if not finite:
                norm = norm if not math.isfinite(norm) else math.nan
                if self.first_bad_grad[name] is None:
                    self.first_bad_grad[name] = step
                bad = True
            series.append((norm, mean, big))
        if bad and self.first_bad_step is None:
            self.first_bad_step = step


def sample_indices(size: int) -> Any:
    """The flat indices recorded for a variable of ``size`` elements.

    Every element up to 16; beyond that ``SAMPLED_ELEMENTS`` evenly spaced ones,
    always including the first and the last.

    >>> list(sample_indices(3)), list(sample_indices(100))
    ([0, 1, 2], [0, 25, 50, 74, 99])
    """
    import numpy as np

    if size <= SMALL_VARIABLE:
        return np.arange(size)
    return np.unique(np.linspace(0, size - 1, SAMPLED_ELEMENTS).round().astype(np.int64))


def _as_float64(flat: Any) -> Any:
    import numpy as np

    if np.iscomplexobj(flat):
        return np.abs(flat).astype(np.float64)
    if flat.dtype == bool:
        return flat.astype(np.float64)
    try:
        return flat.astype(np.float64)
    except (TypeError, ValueError):
        return np.zeros(flat.shape, dtype=np.float64)


def _all_finite(flat: Any) -> bool:
    import numpy as np

    if flat.dtype.kind not in "fc" and str(flat.dtype) != "bfloat16":
        return True
    return bool(np.all(np.isfinite(flat.astype(np.complex128 if flat.dtype.kind == "c" else np.float64))))


# ---------------------------------------------------------------------------
# Batches


class _Batches:
    """Cycles through the inputs of each step: ``example_batches`` or the example inputs.

    ``example_batches`` may be a list/tuple of batches, a ``tf.data.Dataset``, a
    zero-argument function returning an iterable, or an iterator (whose items
    are kept, so that it can be cycled once exhausted).
    """

    def __init__(self, source: Any, *, label: str) -> None:
        self.label = label
        self._cache: list = []
        self._exhausted = False
        self._source = source
        self._iter: Iterator | None = None
        self._sequence = isinstance(source, (list, tuple))
        if self._sequence and not source:
            raise InputsError(f"`{label}` is empty; give at least one batch.")
        self._restartable = self._sequence or callable(source) or _is_dataset(source)
        if not self._restartable and not hasattr(source, "__iter__"):
            raise InputsError(
                f"`{label}` is a {type(source).__name__}; it must be a list of batches, a tf.data.Dataset, "
                "a function returning an iterable of batches, or an iterator."
            )

    def _fresh(self) -> Iterator:
        if self._sequence:
            return iter(self._source)
        if callable(self._source) and not _is_dataset(self._source):
            return iter(self._source())
        return iter(self._source)

    def first(self) -> Any:
        return next(itertools.islice(self, 1))

    def describe(self) -> str:
        if self._sequence:
            n = len(self._source)
            return f"{self.label}: {n} batch{'es' if n != 1 else ''}, cycled"
        if _is_dataset(self._source):
            return f"{self.label}: a tf.data.Dataset, cycled"
        return f"{self.label}: batches from {type(self._source).__name__}, cycled"

    def __iter__(self) -> Iterator:
        if not self._restartable:
            # an iterator: replay what it gave once it is exhausted
            index = 0
            while True:
                if index < len(self._cache):
                    yield self._cache[index]
                    index += 1
                    continue
                if not self._exhausted:
                    if self._iter is None:
                        self._iter = iter(self._source)
                    try:
                        item = next(self._iter)
                    except StopIteration:
                        self._exhausted = True
                        if not self._cache:
                            raise InputsError(f"`{self.label}` yielded no batch; give at least one.") from None
                        index = 0
                        continue
                    self._cache.append(item)
                    index += 1
                    yield item
                    continue
                index = 0
        else:
            while True:
                empty = True
                for item in self._fresh():
                    empty = False
                    yield item
                if empty:
                    raise InputsError(f"`{self.label}` yielded no batch; give at least one.")


def _is_dataset(obj: Any) -> bool:
    if "tensorflow" not in sys.modules:
        return False
    import tensorflow as tf

    return isinstance(obj, tf.data.Dataset)


def _split_batch(target: Any, batch: Any, label: str) -> tuple[tuple, dict]:
    """One batch as (args, kwargs) for a callable or a Keras target."""
    if target.kind == "keras":
        if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
            raise InputsError(
                f"a batch of `{label}` must be a tuple (x, y) or (x, y, sample_weight) for a compiled "
                f"keras.Model; got {type(batch).__name__}."
            )
        return tuple(batch), {}
    if isinstance(batch, tuple):
        return batch, {}
    if isinstance(batch, dict):
        return (), dict(batch)
    return (batch,), {}


# ---------------------------------------------------------------------------
# Optimizers


def _check_options(steps: Any, optimizer: Any, lr: Any) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise TrainOptionsError(f"--steps must be a whole number of at least 1; got {steps!r}.")
    if isinstance(optimizer, str) and optimizer not in OPTIMIZERS:
        raise TrainOptionsError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}.")
    if lr is not None and (not isinstance(lr, (int, float)) or isinstance(lr, bool)
                           or not math.isfinite(lr) or lr <= 0):
        raise TrainOptionsError(f"--lr must be a positive finite number; got {lr!r}.")


def _named_or_given_optimizer(setup: Any, make: Any, accepted: str) -> tuple[Any, Any]:
    """A named optimizer built by ``make(kind, lr)``, or the given object checked.

    Returns ``(optimizer, info)``; ``info`` is None for a given object, which
    the caller (Keras or TF1) describes in its own way.
    """
    if setup.optimizer is None or isinstance(setup.optimizer, str):
        kind = setup.optimizer or DEFAULT_OPTIMIZER
        lr = setup.lr if setup.lr is not None else DEFAULT_LR
        return make(kind, lr), OptimizerInfo(kind, lr, "gradflow")
    opt = setup.optimizer
    if not hasattr(opt, "apply_gradients"):
        raise TrainOptionsError(
            f"optimizer must be 'sgd', 'adam', 'rmsprop' or {accepted}; got {type(opt).__name__}."
        )
    return opt, None


def _keras_optimizer(kind: str, lr: float) -> Any:
    import keras

    cls = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}[kind]
    return cls(learning_rate=lr)


def _tf1_optimizer(kind: str, lr: float) -> Any:
    import tensorflow as tf

    train = tf.compat.v1.train
    cls = {"sgd": train.GradientDescentOptimizer, "adam": train.AdamOptimizer,
           "rmsprop": train.RMSPropOptimizer}[kind]
    return cls(lr)


def _number(value: Any) -> float | None:
    try:
        if hasattr(value, "numpy"):
            value = value.numpy()
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out


def _keras_optimizer_info(opt: Any, origin: str) -> OptimizerInfo:
    lr = None
    try:
        lr = _number(opt.learning_rate)
    except Exception:  # noqa: BLE001 - a schedule that needs a step
        lr = None
    return OptimizerInfo(name=type(opt).__name__, learning_rate=lr, origin=origin, weight_decay=_number(getattr(opt, "weight_decay", None)))


def _clone_keras_optimizer(opt: Any, lr: float | None) -> Any:
    """A fresh optimizer with the same class and configuration (its state starts empty)."""
    config = opt.get_config()
    if lr is not None:
        config["learning_rate"] = lr
    try:
        return type(opt).from_config(config)
    except Exception:  # noqa: BLE001 - a custom optimizer that cannot round-trip its config
        return opt


# ---------------------------------------------------------------------------
# Variables written by something other than an optimizer step


def _write_ops_by_variable(ops: Sequence[Any], resolve: Callable[[Any], Any]) -> dict[int, list]:
    """id(tf.Variable) -> [op] for ops in ``ops`` that write a variable (``resolve(op.inputs[0])``)."""
    found: dict[int, list] = {}
    for op in ops:
        if not op.type.startswith(_OTHER_WRITE_PREFIXES + _OPTIMIZER_WRITE_PREFIXES) or not op.inputs:
            continue
        var = resolve(op.inputs[0])
        if var is not None:
            found.setdefault(id(var), []).append(op)
    return found


def _describe_writer(op: Any, source: str | None) -> str:
    from .sources import LocationResolver

    text = op.name if op.name == op.type else f"{op.name} ({op.type})"
    if source:
        try:
            location = LocationResolver(source).location(op.traceback)
        except Exception:  # noqa: BLE001 - ops without a recorded traceback
            location = None
        if location is not None and location.file == source:
            text += f" at {location}"
    return text


def _is_optimizer_write(op: Any) -> bool:
    return op.type.startswith(_OPTIMIZER_WRITE_PREFIXES)


# ---------------------------------------------------------------------------
# Running: TF2 (callables and compiled Keras models)


@dataclass
class _Setup:
    """What both runners need."""

    target: Any
    refs: list
    static: Any
    steps: int
    batches: _Batches | None
    optimizer: Any  # "sgd" | ... | an optimizer object | None (the model's / train_op)
    lr: float | None
    watch: dict | None
    train_op: Any
    progress: Callable[[int, float], None] | None
    notes: list
    start_values: list = field(default_factory=list)  # (tf.Variable, value) before training


def _is_trained(ref: Any) -> bool:
    dtype = ref.var.dtype.base_dtype
    return bool(ref.trainable) and (dtype.is_floating or dtype.is_complex)


def _plain_callable(obj: Any) -> Callable:
    """The Python function behind a target, so that the training step traces it afresh."""
    from .loading import is_tf_function

    if is_tf_function(obj):
        return obj.python_function
    call = getattr(obj, "__call__", None)
    if call is not None and is_tf_function(call):
        return call.python_function
    return obj


def _grad_stats_tf(g: Any) -> Any:
    import tensorflow as tf

    if isinstance(g, tf.IndexedSlices):
        g = tf.convert_to_tensor(g)
    a = tf.cast(tf.abs(g), tf.float64)
    if a.shape.num_elements() == 0:
        zero = tf.constant(0.0, tf.float64)
        return tf.stack([zero, zero, zero, tf.constant(1.0, tf.float64)])
    finite = tf.cast(tf.reduce_all(tf.math.is_finite(a)), tf.float64)
    return tf.stack([tf.sqrt(tf.reduce_sum(tf.square(a))), tf.reduce_mean(a), tf.reduce_max(a), finite])


def _eager_inputs(value: Any) -> Any:
    import numpy as np
    import tensorflow as tf

    return tf.nest.map_structure(lambda v: tf.constant(v) if isinstance(v, np.ndarray) else v, value)


def _run_eager(setup: _Setup) -> tuple[_Recorder, OptimizerInfo, dict[str, list[str]], list]:
    import tensorflow as tf

    from .tracing import _keras_loss_function

    target = setup.target
    refs = setup.refs
    trained_refs = [r for r in refs if _is_trained(r)]
    tvars = [r.var for r in trained_refs]

    # The optimizer
    if setup.optimizer is None and target.kind == "keras" and getattr(target.obj, "optimizer", None) is not None:
        opt = _clone_keras_optimizer(target.obj.optimizer, setup.lr)
        info = _keras_optimizer_info(opt, "model")
    else:
        opt, info = _named_or_given_optimizer(setup, _keras_optimizer, "a Keras optimizer")
        if info is None:
            if setup.lr is not None:
                raise TrainOptionsError("give either an optimizer object or lr, not both: set the learning rate on the optimizer.")
            info = _keras_optimizer_info(opt, "given")

    if target.kind == "keras":
        loss_fn, _, _ = _keras_loss_function(target, _eager_inputs(tuple(target.args))[:2])
        fn = loss_fn.python_function

        def call(args: tuple, kwargs: dict) -> Any:
            x, y = args[0], args[1]
            sw = args[2] if len(args) > 2 else None
            return fn(x, y, sw)
    else:
        plain = _plain_callable(target.obj)

        def call(args: tuple, kwargs: dict) -> Any:
            return plain(*args, **kwargs)

    traced_ops: dict[str, list] = {}

    def step(args: tuple, kwargs: dict) -> Any:
        graph = tf.compat.v1.get_default_graph()
        start = len(graph.get_operations())
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            for v in tvars:
                tape.watch(v)
            out = call(args, kwargs)
            out = tf.convert_to_tensor(out)
            loss = out if out.shape.rank == 0 else tf.reduce_sum(out)
        traced_ops["ops"] = graph.get_operations()[start:]
        traced_ops["graph"] = graph
        grads = tape.gradient(loss, tvars) if tvars else []
        stats = {r.name: _grad_stats_tf(g) for r, g in zip(trained_refs, grads) if g is not None}
        pairs = [(g, v) for g, v in zip(grads, tvars) if g is not None]
        if pairs:
            opt.apply_gradients(pairs)
        return loss, stats

    step_fn = tf.function(step, reduce_retracing=True)
    watch = _eager_watch(setup.watch)
    recorder = _Recorder(refs, {r.name for r in trained_refs})
    recorder.values_at(0, [_read(r.var) for r in refs])
    watch_values = [watch()] if watch else []
    batches = iter(setup.batches) if setup.batches is not None else None
    for k in range(1, setup.steps + 1):
        if batches is not None:
            args, kwargs = _split_batch(target, next(batches), setup.batches.label)
        else:
            args, kwargs = tuple(target.args), dict(target.kwargs)
        args, kwargs = _eager_inputs(args), _eager_inputs(kwargs)
        try:
            loss, stats = step_fn(args, kwargs)
        except UserError:
            raise
        except Exception as exc:  # the user's ops failed while training
            raise _step_failure(target, k, exc) from exc
        recorder.step_at(k, loss.numpy(), {name: s.numpy() for name, s in stats.items()})
        recorder.values_at(k, [_read(r.var) for r in refs])
        if watch:
            watch_values.append(watch())
        if setup.progress:
            setup.progress(k, recorder.loss[-1])
    writers = _eager_writers(traced_ops, refs, target.source)
    return recorder, info, writers, watch_values


def _read(var: Any) -> Any:
    return var.numpy()


def _eager_writers(traced: dict, refs: list, source: str | None) -> dict[str, list[str]]:
    """Variables the user's code itself writes during the step (``assign`` in the loss, BatchNorm)."""
    graph = traced.get("graph")
    if graph is None:
        return {}
    internal_to_external = {id(internal): external for external, internal in graph.captures}
    by_handle = {id(getattr(r.var, "handle", None)): r.var for r in refs}

    def resolve(tensor: Any) -> Any:
        external = internal_to_external.get(id(tensor))
        return by_handle.get(id(external)) if external is not None else None

    found = _write_ops_by_variable(traced.get("ops", []), resolve)
    return {
        r.name: [_describe_writer(op, source) for op in found.get(id(r.var), []) if not _is_optimizer_write(op)]
        for r in refs
    }


def _eager_watch(watch: dict | None) -> Callable[[], list] | None:
    if not watch:
        return None
    import numpy as np

    items = list(watch.items())
    for label, fn in items:
        if not callable(fn):
            raise InputsError(
                f"`{WATCH_ATTR}[{label!r}]` is a {type(fn).__name__}; each watch must be a function of no "
                "arguments returning a tensor (e.g. lambda: w2 * w3)."
            )

    def evaluate() -> list:
        out = []
        for label, fn in items:
            try:
                value = fn()
            except Exception as exc:  # noqa: BLE001 - the user's watch raised
                raise InputsError(f"`{WATCH_ATTR}[{label!r}]` raised {type(exc).__name__}: {exc}") from exc
            out.append(np.asarray(value.numpy() if hasattr(value, "numpy") else value))
        return out

    return evaluate


def _step_failure(target: Any, step: int, exc: Exception) -> TraceError:
    from .sources import format_user_traceback

    message = str(exc).strip().splitlines()
    first = message[0] if message else type(exc).__name__
    return TraceError(
        f"training step {step} of target `{target.name}` raised {type(exc).__name__}: {first}. "
        "Fix the model file (or its batches).",
        user_traceback=format_user_traceback(exc),
    )


# ---------------------------------------------------------------------------
# Running: TF1 graphs


def _run_tf1(setup: _Setup, trace: Any) -> tuple[_Recorder, OptimizerInfo, dict[str, list[str]], list, dict]:
    import tensorflow as tf

    target = setup.target
    graph = trace.graph
    refs = setup.refs
    in_graph = [r for r in refs if getattr(r.var, "graph", None) is graph]
    outside = [r.name for r in refs if getattr(r.var, "graph", None) is not graph]
    if outside:
        raise InputsError(
            f"variables {', '.join(outside)} are not in the loss's graph; a TF1 target trains the "
            "variables of its own graph only."
        )
    trained_refs = [r for r in refs if _is_trained(r)]
    train_op = setup.train_op
    updated: dict[str, bool] = {}
    with graph.as_default():
        try:
            grads = tf.compat.v1.gradients(trace.loss, [r.var for r in trained_refs]) if trained_refs else []
        except (LookupError, ValueError, TypeError) as exc:
            raise TraceError(f"TensorFlow cannot differentiate the loss of `{target.name}`: {exc}") from exc
        stats = {r.name: _grad_stats_tf(g) for r, g in zip(trained_refs, grads) if g is not None}
        if train_op is not None and setup.optimizer is None:
            op = train_op
            info = OptimizerInfo(TRAIN_OP_ATTR, None, "train_op")
            if setup.lr is not None:
                setup.notes.append("the learning rate given is not used: train_op has its own")
        else:
            opt, info = _named_or_given_optimizer(setup, _tf1_optimizer, "a tf.compat.v1.train.Optimizer")
            if info is None:
                info = OptimizerInfo(type(opt).__name__, _number(getattr(opt, "_learning_rate", None)), "given")
            pairs = [(g, r.var) for g, r in zip(grads, trained_refs) if g is not None]
            op = opt.apply_gradients(pairs) if pairs else tf.no_op(name="gradflow_nothing_to_train")
        watch_fetches = _tf1_watch(setup.watch, graph)
        init = [v.initializer for v in tf.compat.v1.global_variables() + tf.compat.v1.local_variables()]
        tables = tf.compat.v1.tables_initializer()
        # Which variables does the step write, and how?
        step_ops = _ancestor_ops(op)
        by_op = {r.var.op.name: r.var for r in in_graph}
        found = _write_ops_by_variable(step_ops, lambda t: by_op.get(t.op.name))
    writers = {
        r.name: [_describe_writer(w, target.source) for w in found.get(id(r.var), []) if not _is_optimizer_write(w)]
        for r in refs
    }
    updated = {r.name: bool(found.get(id(r.var))) for r in refs}
    base_feed = dict(trace.feed or {})
    recorder = _Recorder(refs, {r.name for r in trained_refs})
    watch_values: list = []
    names = list(stats)
    stat_fetches = [stats[n] for n in names]
    fetch_vars = [r.var for r in refs]
    batches = iter(setup.batches) if setup.batches is not None else None
    try:
        with tf.compat.v1.Session(graph=graph) as session:
            session.run([tables] + init, feed_dict=base_feed)
            recorder.values_at(0, session.run(fetch_vars))
            if watch_fetches:
                watch_values.append(session.run(watch_fetches, feed_dict=base_feed))
            for k in range(1, setup.steps + 1):
                feed = base_feed
                if batches is not None:
                    feed = {**base_feed, **_tf1_feed(graph, next(batches), setup.batches.label)}
                loss_value, stat_values = session.run([trace.loss, stat_fetches], feed_dict=feed)
                session.run(op, feed_dict=feed)
                recorder.step_at(k, loss_value, dict(zip(names, stat_values)))
                recorder.values_at(k, session.run(fetch_vars))
                if watch_fetches:
                    watch_values.append(session.run(watch_fetches, feed_dict=feed))
                if setup.progress:
                    setup.progress(k, recorder.loss[-1])
    except UserError:
        raise
    except Exception as exc:  # the user's graph failed while training
        raise _step_failure(target, len(recorder.loss) + 1, exc) from exc
    return recorder, info, writers, watch_values, updated


def _ancestor_ops(fetch: Any) -> list:
    """Every op ``fetch`` (an op, a tensor or a list of them) depends on, by data or control."""
    roots = fetch if isinstance(fetch, (list, tuple)) else [fetch]
    stack = [getattr(r, "op", r) for r in roots]
    seen = {id(op): op for op in stack}
    while stack:
        op = stack.pop()
        for parent in [t.op for t in op.inputs] + list(op.control_inputs):
            if id(parent) not in seen:
                seen[id(parent)] = parent
                stack.append(parent)
    return sorted(seen.values(), key=lambda o: o.name)


def _tf1_feed(graph: Any, batch: Any, label: str) -> dict:
    import numpy as np

    if not isinstance(batch, dict):
        raise InputsError(
            f"a batch of `{label}` must be a dict placeholder -> array for a TF1 graph target; "
            f"got {type(batch).__name__}."
        )
    feed = {}
    for key, value in batch.items():
        tensor = key
        if isinstance(key, str):
            try:
                tensor = graph.get_tensor_by_name(key if ":" in key else key + ":0")
            except (KeyError, ValueError) as exc:
                raise InputsError(f"a batch of `{label}` names {key!r}, which is not a tensor of the loss's graph.") from exc
        feed[tensor] = np.asarray(value)
    return feed


def _tf1_watch(watch: dict | None, graph: Any) -> list:
    if not watch:
        return []
    import tensorflow as tf

    fetches = []
    for label, value in watch.items():
        if callable(value):
            value = value()
        if not (isinstance(value, tf.Tensor) and getattr(value, "graph", None) is graph):
            raise InputsError(
                f"`{WATCH_ATTR}[{label!r}]` must be a tensor of the loss's graph (e.g. w2 * w3) for a TF1 target."
            )
        fetches.append(value)
    return fetches


# ---------------------------------------------------------------------------
# The whole run


def _run(setup: _Setup, timings: dict) -> TrainReport:
    """Static verdict, training, verdicts. Call inside ``tf_state_guard()``."""
    from .api import run_target
    from .tracing import trace

    target = setup.target
    start = time.perf_counter()
    tr = trace(target)
    setup.refs = list(tr.variables)
    eager = target.kind != "tf1"
    snapshot = [(r.var, r.var.numpy()) for r in setup.refs] if eager else []
    static = run_target(target, traced=tr)
    # inspect ran the model once (BatchNorm statistics, RNG states move): start from the file's values
    for var, value in snapshot:
        var.assign(value)
    setup.start_values = snapshot
    timings["static_s"] = time.perf_counter() - start

    start = time.perf_counter()
    updated: dict[str, bool] = {}
    if eager:
        recorder, info, writers, watch_values = _run_eager(setup)
    else:
        recorder, info, writers, watch_values, updated = _run_tf1(setup, tr)
    timings["train_s"] = time.perf_counter() - start
    return _report(setup, tr, static, recorder, info, writers, watch_values, updated, timings)


def _report(setup: _Setup, tr: Any, static: Any, recorder: _Recorder, info: OptimizerInfo,
            writers: dict[str, list[str]], watch_values: list, updated: dict[str, bool],
            timings: dict) -> TrainReport:
    import numpy as np

    statics = {v.name: v for v in static.variables}
    notes = list(tr.notes) + list(setup.notes)
    missing = [r.name for r in setup.refs if r.name not in statics]
    if missing:
        notes.append(f"no static verdict for {', '.join(missing)}")
    runs = []
    for ref in setup.refs:
        name = ref.name
        grads = recorder.grads.get(name)
        sv = statics.get(name)
        first = recorder.first[name]
        last_flat = np.frombuffer(recorder.last[name], dtype=first.dtype)
        with np.errstate(all="ignore"):
            delta = float(np.sqrt(np.sum(np.square(np.abs(
                _as_float64(last_flat) - _as_float64(first.reshape(-1)))))))
        verdict = decide_verdict(recorder.first_bad_value[name], recorder.changed[name])
        trained = name in recorder.trained
        agrees, explanation = judge(
            verdict=verdict,
            static=sv.status.value if sv else None,
            trained=trained,
            grad_norms=[g[0] for g in grads] if grads is not None else None,
            first_nonfinite_grad_step=recorder.first_bad_grad[name],
            first_nonfinite_value_step=recorder.first_bad_value[name],
            writers=writers.get(name, []),
            weight_decay=info.weight_decay,
            train_op=info.origin == "train_op",
            updated_by_train_op=updated.get(name),
        )
        runs.append(VariableRun(
            name=name,
            shape=ref.shape,
            dtype=ref.dtype,
            trainable=ref.trainable,
            size=recorder.sizes[name],
            trained=trained,
            static_status=sv.status.value if sv else None,
            static_why=sv.why if sv else "",
            indices=tuple(int(i) for i in recorder.indices[name]),
            values=tuple(recorder.values[name]),
            norms=tuple(recorder.norms[name]),
            means=tuple(recorder.means[name]),
            grad_norms=tuple(g[0] for g in grads) if grads is not None else None,
            grad_abs_means=tuple(g[1] for g in grads) if grads is not None else None,
            grad_abs_maxes=tuple(g[2] for g in grads) if grads is not None else None,
            first_nonfinite_grad_step=recorder.first_bad_grad[name],
            first_nonfinite_value_step=recorder.first_bad_value[name],
            changed_steps=recorder.changed[name],
            delta_norm=delta,
            verdict=verdict,
            agrees=agrees,
            explanation=explanation,
            writers=tuple(writers.get(name, [])),
        ))
    watches = []
    for i, label in enumerate((setup.watch or {}).keys()):
        rows = [np.asarray(step[i]) for step in watch_values]
        size = int(rows[0].size) if rows else 0
        idx = sample_indices(size)
        shape = tuple(int(d) for d in rows[0].shape) if rows else None
        watches.append(WatchRun(
            label=str(label), shape=shape, size=size, indices=tuple(int(j) for j in idx),
            values=tuple(tuple(float(v) for v in _as_float64(row.reshape(-1))[idx]) for row in rows),
        ))
    if not any(r.trained for r in runs):
        notes.append("no variable is trainable: the optimizer had nothing to update")
    batches = setup.batches.describe() if setup.batches is not None else f"{tr.target.inputs_note or 'no inputs'}, every step"
    loss_dtype = getattr(getattr(tr.loss, "dtype", None), "name", "float32")
    return TrainReport(
        source=setup.target.source,
        target=setup.target.name,
        kind=setup.target.kind,
        inputs=setup.target.inputs_note,
        batches=batches,
        optimizer=info,
        steps=setup.steps,
        loss=tuple(recorder.loss),
        variables=tuple(runs),
        watches=tuple(watches),
        first_nonfinite_step=recorder.first_bad_step,
        notes=tuple(notes),
        loss_dtype=loss_dtype,
        static=static,
        timings=timings,
    )


# ---------------------------------------------------------------------------
# Public entry points


def train(target: Any, *example_args: Any, steps: int = DEFAULT_STEPS, optimizer: Any = None,
          lr: float | None = None, batches: Any = None, variables: Any = None, feed_dict: dict | None = None,
          train_op: Any = None, watch: dict | None = None, name: str | None = None, restore: bool = True,
          progress: bool = False, **example_kwargs: Any) -> TrainReport:
    """Train a loss for ``steps`` real optimizer steps and record what each variable does.

    Args:
        target: a ``tf.function``, a plain function, a ``tf.Module`` with
            ``__call__``, a compiled ``keras.Model`` (give ``x, y``), or a TF1
            graph tensor (give ``feed_dict`` or let gradflow synthesise feeds).
        *example_args: positional example inputs (used at every step unless
            ``batches`` is given).
        steps: the number of optimizer steps. Defaults to 100.
        optimizer: ``"sgd"``, ``"adam"``, ``"rmsprop"``, or an optimizer object
            (Keras, or ``tf.compat.v1.train`` for a TF1 tensor). Defaults to
            None: a compiled model's own (a fresh clone), else the given
            TF1 ``train_op``, else ``"sgd"``.
        lr: the learning rate. Defaults to 0.1 (a compiled model's own
            optimizer keeps its own rate unless ``lr`` is given).
        batches: the inputs of successive steps, cycled (a list of batches, a
            ``tf.data.Dataset``, an iterator...).
        variables: the variables to report on; default: as ``gradflow.inspect``.
        feed_dict: placeholder -> value, for a TF1 tensor.
        train_op: a TF1 train op to run instead of building an optimizer.
        watch: label -> zero-argument function returning a tensor (or a TF1
            tensor), recorded at every step and drawn in the plot.
        name: how the report names the target.
        restore: put the variables back to their starting values afterwards.
            Defaults to True.
        progress: show a progress bar on stderr. Defaults to False.
        **example_kwargs: keyword example inputs.

    Returns:
        The :class:`TrainReport`; print it for the table, ``.plot(path)`` to draw it.

    Raises:
        UserError: a subclass naming what is wrong and how to fix it.

    Example:
        ```python
        run = gradflow.train(loss, x, steps=200)
        assert run.verdict("w2") == "frozen"
        run.plot("trajectories.svg")
        ```
    """
    from .api import _timed
    from .loading import python_target, tf_state_guard

    _check_options(steps, optimizer, lr)
    timings = {k: 0.0 for k in TIMING_KEYS}
    with tf_state_guard():
        with _timed(timings, "load_s"):
            tgt = python_target(target, example_args, example_kwargs, variables=variables,
                                feed_dict=feed_dict, name=name)
            source = _Batches(batches, label="batches") if batches is not None else None
        setup = _Setup(target=tgt, refs=[], static=None, steps=steps, batches=source, optimizer=optimizer,
                       lr=lr, watch=watch, train_op=train_op, progress=None, notes=[])
        with _progress(steps, progress) as callback:
            setup.progress = callback
            try:
                return _run(setup, timings)
            finally:
                if restore and tgt.kind != "tf1":
                    _restore(setup)


def _restore(setup: _Setup) -> None:
    """Put every variable back to the value it had before training."""
    for var, value in setup.start_values:
        var.assign(value)


def train_file(path: str, *, target: str | None = None, inputs: str | None = None, steps: int = DEFAULT_STEPS,
               optimizer: str | None = None, lr: float | None = None, progress: bool = False) -> TrainReport:
    """Train a model file's target, as ``gradflow train FILE`` does.

    Seeds Python's, NumPy's and TensorFlow's random generators (``keras.utils.set_random_seed(0)``)
    before importing the file, so that unseeded initialisers give the same start every run.

    Args:
        path: the model file.
        target, inputs: as for ``gradflow inspect`` (``--target``, ``--inputs``).
        steps: optimizer steps.
        optimizer: ``sgd``, ``adam``, ``rmsprop``; None: a compiled model's own,
            a TF1 file's ``train_op``, else sgd.
        lr: the learning rate; None: 0.1, or the model's own.
        progress: show a progress bar on stderr.

    Raises:
        UserError: a subclass naming the problem and its fix.
    """
    from .api import _timed
    from .loading import tf_state_guard

    _check_options(steps, optimizer, lr)
    timings = {k: 0.0 for k in TIMING_KEYS}
    with tf_state_guard():
        with _timed(timings, "load_s"):
            tgt, batches, module = _load(path, target=target, inputs=inputs)
        watch = getattr(module, WATCH_ATTR, None)
        if watch is not None and not isinstance(watch, dict):
            raise InputsError(f"`{WATCH_ATTR}` in {path} must be a dict label -> function (or TF1 tensor).")
        train_op = getattr(module, TRAIN_OP_ATTR, None) if tgt.kind == "tf1" else None
        setup = _Setup(target=tgt, refs=[], static=None, steps=steps, batches=batches, optimizer=optimizer,
                       lr=lr, watch=watch, train_op=train_op, progress=None, notes=[])
        with _progress(steps, progress) as callback:
            setup.progress = callback
            return _run(setup, timings)


def _load(path: str, *, target: str | None, inputs: str | None) -> tuple[Any, _Batches | None, Any]:
    """``loading.load_file``, plus ``example_batches``: its first batch stands in for missing example inputs."""
    import keras

    from .loading import (DEFAULT_FEED, DEFAULT_INPUTS, choose_target, import_model_file, is_graph_tensor,
                          make_target)

    import tensorflow as tf

    keras.utils.set_random_seed(SEED)
    # A TF1 file builds into the process's default graph; a fresh one keeps a
    # second TF1 file (in the same process) from colliding with the first's names.
    with contextlib.suppress(AssertionError):  # inside someone's `with graph.as_default()`
        tf.compat.v1.reset_default_graph()
    module = import_model_file(path)
    name, obj = choose_target(module, target, path)
    if inputs is not None and not hasattr(module, inputs):
        raise InputsError(f"{path} has no attribute `{inputs}` (given with --inputs). Define it or drop --inputs.")
    label = inputs or (DEFAULT_FEED if is_graph_tensor(obj) else DEFAULT_INPUTS)
    batches = None
    if hasattr(module, BATCHES_ATTR):
        batches = _Batches(getattr(module, BATCHES_ATTR), label=BATCHES_ATTR)
    has_inputs = hasattr(module, label)
    value = getattr(module, label, None)
    if not has_inputs and batches is not None:
        value, has_inputs, label = batches.first(), True, f"{BATCHES_ATTR}[0]"
        if not is_graph_tensor(obj) and not isinstance(value, (tuple, dict)):
            value = (value,)
    variables = getattr(module, "variables", None)
    if variables is not None and not isinstance(variables, (list, tuple)):
        variables = None
    tgt = make_target(obj, name=name, source=path, module=module, inputs=value, has_inputs=has_inputs,
                      inputs_label=label, variables=variables)
    return tgt, batches, module


@contextlib.contextmanager
def _progress(steps: int, enabled: bool) -> Iterator[Callable[[int, float], None] | None]:
    """A rich progress bar on stderr (step, loss, time left), or nothing."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    columns = (
        TextColumn("step"),
        MofNCompleteColumn(),
        BarColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("train", total=steps, loss="-")

        def update(step: int, loss: float) -> None:
            bar.update(task, completed=step, loss=_fmt(loss))

        yield update


# ---------------------------------------------------------------------------
# Terminal view


def train_renderable(report: TrainReport) -> Any:
    """The terminal view: header, one row per variable, flagged disagreements, summary."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from .render.terminal import title_line
    from .render.theme import style_of

    header = title_line("gradflow train", report.source, report.target, report.kind)
    loss = report.loss
    header.append(f"\n{report.steps} step{'s' if report.steps != 1 else ''} of {report.optimizer.describe()}"
                  f"  ·  loss {_fmt(loss[0])} → {_fmt(loss[-1])}", style="dim")
    header.append(f"\nbatches: {report.batches}", style="dim")

    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    longest = max((len(run.name) for run in report.variables), default=8)
    # On a narrow terminal the names fold; the verdict never does.
    table.add_column("variable", overflow="fold", min_width=min(max(longest, 8), 9))
    table.add_column("inspect", no_wrap=True, min_width=9)
    table.add_column("start", justify="right", no_wrap=True)
    table.add_column("end", justify="right", no_wrap=True)
    table.add_column("change", justify="right", no_wrap=True)
    table.add_column("max ‖g‖", justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True, min_width=10)
    for run in report.variables:
        status = Text("-")
        if run.static_status:
            st = style_of(run.static_status)
            status = Text(f"{st.symbol} {st.label}", style=st.colour)
        if run.size == 1:
            start, end = _fmt(run.values[0][0]), _fmt(run.values[-1][0])
        else:
            start, end = _fmt(run.start_norm), _fmt(run.end_norm)
        if not run.agrees:
            verdict = Text(f"⚠ {run.verdict}", style="bold " + style_of("blocked").colour)
        elif not run.trained:
            verdict = Text(f"· {run.verdict}", style="dim")
        else:
            verdict = Text(f"✓ {run.verdict}", style="bold")
        table.add_row(
            escape(run.name), status, start, end, _fmt(run.delta_norm),
            _fmt(run.max_grad_norm) if run.grad_norms is not None else "none",
            verdict,
        )
    parts: list = [header, Text(), table]
    flagged = report.disagreements
    if flagged:
        parts.append(Text())
        for run in flagged:
            line = Text("⚠ ", style="bold " + style_of("blocked").colour)
            line.append(run.name, style="bold")
            line.append(f" ({run.static_status or 'no static verdict'} → {run.verdict}): {run.explanation}")
            parts.append(line)
    if report.first_nonfinite_step is not None:
        parts.append(Text(f"first NaN/Inf in the loss or a gradient at step {report.first_nonfinite_step}",
                          style=style_of("nonfinite").colour))
    for note in report.notes:
        parts.append(Text(f"note: {note}", style="yellow"))
    parts.append(Text())
    parts.append(Text("start, end: the value of a scalar, else its norm ‖v‖; change: ‖end − start‖; "
                      "max ‖g‖: the largest gradient norm\n"
                      "✓ as inspect predicts   ⚠ flagged: not what inspect predicts   "
                      "· not trained by the optimizer", style="dim"))
    parts.append(Text(report.headline(), style="bold"))
    return Group(*parts)


# ---------------------------------------------------------------------------
# Command line


def cli_train(args: Any) -> int:
    """``gradflow train``: parse-level checks, run, write outputs; returns the exit code."""
    from rich.console import Console

    from .outputs import write_atomic

    _check_options(args.steps, args.optimizer, args.lr)
    for option, path in (("--plot", args.plot), ("--plot-layers", args.plot_layers)):
        if path and not path.lower().endswith(PLOT_SUFFIXES):
            raise TrainOptionsError(f"{option} {path}: use a file name ending in .svg, .png or .pdf.")
    # The user's module may print; stdout belongs to the report alone.
    with contextlib.redirect_stdout(sys.stderr):
        import tensorflow  # noqa: F401  (its start-up noise goes to stderr)

        from .cli import _after_import_quiet

        _after_import_quiet()
        report = train_file(args.file, target=args.target, inputs=args.inputs, steps=args.steps,
                            optimizer=args.optimizer, lr=args.lr, progress=True)
    start = time.perf_counter()
    if args.plot:
        report.plot(args.plot)
    if args.plot_layers:
        report.plot_layers(args.plot_layers)
    report.timings["render_s"] = time.perf_counter() - start
    if args.json_out:
        write_atomic(args.json_out, report.to_json() + "\n")
    if args.format == "json":
        sys.stdout.write(report.to_json() + "\n")
    else:
        from .render.text import Inert

        Console(highlight=False).print(Inert(train_renderable(report)))
    return 0
