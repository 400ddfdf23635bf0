"""The result of ``gradflow train``: plain Python, TF-free, and its ``gradflow.train/1`` JSON.

:class:`TrainReport` holds one :class:`VariableRun` per variable (its
trajectory, verdict and how that compares with ``inspect``), the watched
expressions and the optimizer used. It renders itself through ``render/``
(the terminal table, the plots), imported inside those methods only: the lazy
facade; at load time this module reads ``render.text.number`` alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from ..render.text import number

__all__ = ["SCHEMA", "VERDICTS", "TIMING_KEYS", "PLOT_SUFFIXES", "OptimizerInfo", "VariableRun", "WatchRun",
           "TrainReport"]

SCHEMA = "gradflow.train/1"
VERDICTS = ("moved", "frozen", "diverged")
PLOT_SUFFIXES = (".svg", ".png", ".pdf")
TIMING_KEYS = ("load_s", "static_s", "train_s", "render_s")


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
            parts.append(f"lr {number(self.learning_rate)}")
        if self.weight_decay:
            parts.append(f"weight decay {number(self.weight_decay)}")
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
        from ..schema import find_by_name

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
        from ..render.plots import trajectory_figure

        return trajectory_figure(self, **options)

    def plot(self, path: str, **options: Any) -> str:
        """Draw trajectories, gradient norms and the loss to ``path`` (.svg, .png or .pdf)."""
        from ..render.plots import write_figure

        return write_figure(self.figure(**options), path)

    def plot_layers(self, path: str) -> str:
        """Draw mean and max |gradient| per layer at the first and last step to ``path``."""
        from ..render.plots import layer_figure, write_figure

        return write_figure(layer_figure(self), path)

    def _repr_svg_(self) -> str:
        from ..render.plots import figure_svg

        return figure_svg(self.figure())

    def __rich__(self) -> Any:
        from ..render.train_view import train_renderable

        return train_renderable(self)

    def __str__(self) -> str:
        from rich.console import Console

        from ..render.train_view import train_renderable

        console = Console(width=110, color_system=None, force_terminal=False)
        with console.capture() as capture:
            console.print(train_renderable(self))
        return capture.get()


# ---------------------------------------------------------------------------
# Numbers


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
