"""The report: one object that feeds every output (terminal, JSON, graphs, HTML).

Frozen dataclasses, TF-free. ``Report.to_dict()`` is the contract's
``gradflow.report/1`` JSON; ``Report.__rich__`` is the terminal view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .schema import NO_NUMERIC_CHECK, SCHEMA, Blocker, Location, LossValue, PathCount, Status, StopGradientReport, VariableReport, find_by_name

__all__ = ["Status", "Blocker", "VariableReport", "StopGradientReport", "Report", "SCHEMA"]

TIMING_KEYS = ("load_s", "trace_s", "analysis_s", "autodiff_s", "render_s")


def _tracking_entry(v: VariableReport) -> dict:
    return {"name": v.name, "created_at": v.created_at.to_dict() if v.created_at else None}


@dataclass(frozen=True)
class Report:
    """Everything gradflow found about one loss.

    Attributes:
        source: the model file as given, or None from the Python API.
        target: the target's name.
        kind: ``callable``, ``keras`` or ``tf1``.
        inputs: how the example inputs were obtained.
        variables: one verdict per variable, in a stable order.
        stop_gradients: every StopGradient op in the traced graph.
        notes: things worth saying (a summed loss, an autodiff error...).
        numeric: whether gradients were evaluated on the example inputs.
        loss: the loss's value on the example inputs, when it was computed.
        mode: ``full`` (TensorFlow's autodiff decided) or ``static`` (the graph alone).
        timings: seconds per stage (the only field that varies between runs).
        flow: the analysis graph, for the renderers.
    """

    source: str | None
    target: str
    kind: str
    inputs: str
    variables: tuple[VariableReport, ...]
    stop_gradients: tuple[StopGradientReport, ...]
    notes: tuple[str, ...] = ()
    numeric: bool = True
    mismatches: tuple[str, ...] = ()
    loss: LossValue | None = None
    mode: str = "full"
    timings: dict = field(default_factory=lambda: {k: 0.0 for k in TIMING_KEYS}, compare=False)
    flow: Any = field(default=None, compare=False, repr=False)

    # -- queries -------------------------------------------------------------
    def variable(self, name: str) -> VariableReport:
        """The report on the variable called ``name``.

        Raises:
            KeyError: no such variable; the message lists the names.
        """
        return find_by_name(self.variables, name)

    def status(self, name: str) -> Status:
        """The status of the variable called ``name``."""
        return self.variable(name).status

    @property
    def untracked(self) -> tuple[VariableReport, ...]:
        """Trainable variables the loss reads that the owning model or module does not list.

        ``model.fit`` or an optimizer given ``model.trainable_variables`` never updates
        them (typically created in ``call()`` or kept outside tracked attributes).
        """
        return tuple(v for v in self.variables
                     if v.tracked is False and v.trainable and v.status is not Status.DISCONNECTED)

    @property
    def unread(self) -> tuple[VariableReport, ...]:
        """Trainable variables the owning model or module lists, but the loss never reads."""
        return tuple(v for v in self.variables
                     if v.tracked is True and v.trainable and v.status is Status.DISCONNECTED)

    @property
    def summary(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for v in self.variables:
            counts[v.status.value] += 1
        return counts

    def headline(self) -> str:
        """One line: how many trainable variables receive gradient."""
        trainable = [v for v in self.variables if v.trainable]
        learning = sum(v.status is Status.FLOWS for v in trainable)
        if len(trainable) == 1:
            return f"{learning} of 1 trainable variable receives gradient"
        return f"{learning} of {len(trainable)} trainable variables receive gradient"

    # -- outputs -------------------------------------------------------------
    def to_dict(self) -> dict:
        """The contract's ``gradflow.report/1`` object."""
        d = {
            "schema": SCHEMA,
            "source": self.source,
            "target": self.target,
            "kind": self.kind,
            "inputs": self.inputs,
            "numeric_check": self.numeric,
            "mode": self.mode,
            **({"loss": self.loss.to_dict()} if self.loss is not None else {}),
            "variables": [v.to_dict() for v in self.variables],
            "stop_gradients": [s.to_dict() for s in self.stop_gradients],
            "summary": self.summary,
            "tracking": {
                "untracked": [_tracking_entry(v) for v in self.untracked],
                "unread": [_tracking_entry(v) for v in self.unread],
            },
            "notes": list(self.notes),
            "timings": {k: round(float(self.timings.get(k, 0.0)), 4) for k in TIMING_KEYS},
        }
        return d

    def to_json(self, *, indent: int | None = 2) -> str:
        import json

        if indent is None:
            return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
        from .jsontext import dumps

        return dumps(self.to_dict(), indent=indent)  # the same bytes as json.dumps, faster

    def to_dot(self, **options: Any) -> Any:
        """The gradient-flow graph as a ``graphviz.Digraph`` (see :func:`gradflow.render.dot.to_dot`)."""
        from .render.dot import to_dot

        return to_dot(self, **options)

    def to_svg(self, **options: Any) -> str:
        """The gradient-flow graph rendered to SVG text by Graphviz's ``dot``."""
        from .render.files import render_svg

        return render_svg(self, **options)

    def render(self, path: str, **options: Any) -> str:
        """Write the graph (``.svg``, ``.png``, ``.pdf``, ``.dot``) or HTML report (``.html``) to ``path``."""
        from .render.files import render_path

        return render_path(self, path, **options)

    def _repr_html_(self) -> str:
        from .render.files import notebook_html

        return notebook_html(self)

    def explain(self, name: str) -> Any:
        """One variable's status and why, path by path, as a rich renderable.

        ``name`` may be a glob pattern (``"dense/*"``) selecting several variables.
        """
        from .explain import explain_renderable

        return explain_renderable(self, name)

    def __rich__(self) -> Any:
        from .render.terminal import report_renderable

        return report_renderable(self)

    def __str__(self) -> str:
        from .render.terminal import render_text

        return render_text(self)

    def __repr__(self) -> str:
        """The headline and the problems, a few lines (never the whole dataclass)."""
        from .render.terminal import short_text

        return short_text(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))
