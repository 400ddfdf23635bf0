"""Training plots with matplotlib: trajectories, gradient norms, loss; gradient flow by layer.

Figures are built as ``matplotlib.figure.Figure`` objects (no pyplot, so no GUI
backend and no global state) and written by :func:`write_figure`. Lines are
coloured by the *static* status of their variable, with the palette of
``render/theme.py`` shared with the terminal and the graph:

- green ``flows``, amber ``zero``, magenta ``nonfinite``, red ``blocked``,
  grey ``disconnected``;
- colour is never the only signal: every legend entry repeats the status word
  and the training verdict (``w2 · blocked → frozen``), and variables sharing a
  status differ in line style;
- dashed dark lines are watched expressions (``train_watch``), e.g. ``w2 * w3``.

Output is deterministic: fixed ``svg.hashsalt``, no date in SVG/PDF metadata,
so the same run gives byte-identical files.
"""

from __future__ import annotations

import io
import math
import os
import re
from typing import TYPE_CHECKING, Any

from ..errors import RenderError
from .theme import FAINT_COLOUR, STATUS_ORDER, style_of

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..training.result import TrainReport

__all__ = ["trajectory_figure", "layer_figure", "write_figure", "figure_svg", "layer_groups", "MAX_VARIABLES"]

MAX_VARIABLES = 12  # variables drawn in the trajectory panel; the JSON has all of them
MAX_LAYER_FIGURE_WIDTH = 16.0  # inches
MAX_LAYER_LABELS = 48  # beyond this many layers, only every k-th is labelled
LINESTYLES = ("-", (0, (5, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)))
WATCH_COLOUR = "#303030"
NONFINITE_COLOUR = style_of("nonfinite").colour
RC = {
    "svg.hashsalt": "gradflow",
    "svg.fonttype": "path",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
}
METADATA = {
    "svg": {"Date": None},
    "pdf": {"CreationDate": None, "ModDate": None},
    "png": {"Software": None},
}


def _gid(*parts: object) -> str:
    """An SVG id for a drawn element (``values:w1:0``), stable across runs."""
    return ":".join(re.sub(r"[^A-Za-z0-9_.#-]", "_", str(p)) for p in parts)


def _colour(status: str | None) -> str:
    return style_of(status).colour if status else FAINT_COLOUR


def _nan_if_bad(values: Any, *, positive: bool = False) -> Any:
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(array)
    if positive:
        bad |= array <= 0
    return np.where(bad, np.nan, array)


def _styles(report: "TrainReport") -> dict[str, tuple[str, Any]]:
    """Variable name -> (colour, linestyle): colour by status, style cycling within a status."""
    used: dict[str | None, int] = {}
    styles = {}
    for run in report.variables:
        n = used.get(run.static_status, 0)
        used[run.static_status] = n + 1
        styles[run.name] = (_colour(run.static_status), LINESTYLES[n % len(LINESTYLES)])
    return styles


def _label(run: Any) -> str:
    status = run.static_status or "?"
    text = f"{run.name} · {status} → {run.verdict}"
    if run.sampled:
        text += f" ({len(run.indices)} of {run.size} elements)"
    elif run.size > 1:
        text += f" ({run.size} elements)"
    return text


def _mark_nonfinite(ax: Any, step: int | None) -> None:
    if step is not None:
        ax.axvline(step, color=NONFINITE_COLOUR, linewidth=1.0, linestyle=(0, (2, 2)), zorder=1)


def _on_value_panel(run: Any) -> bool:
    """Trainable float variables only: seed states and counters (4e8 and the like) would flatten every weight."""
    return bool(run.trainable) and str(run.dtype).startswith(("float", "bfloat", "half"))


def _chosen(report: "TrainReport", limit: int) -> list:
    """At most ``limit`` trainable float variables, in report order: flagged ones first, then trained,
    then the rest."""
    ranked = sorted((i for i in range(len(report.variables)) if _on_value_panel(report.variables[i])),
                    key=lambda i: (report.variables[i].agrees, not report.variables[i].trained, i))
    keep = sorted(ranked[:limit])
    return [report.variables[i] for i in keep]


def trajectory_figure(report: "TrainReport", *, max_variables: int = MAX_VARIABLES) -> "Figure":
    """Values, gradient norms and loss against the step, in three panels sharing the x axis.

    1. values: one line per element for variables of at most 16 elements, a
       few fixed sampled elements for larger ones; watched expressions dashed.
    2. gradient norms on a log scale (variables without a gradient are named,
       since there is nothing to draw).
    3. the loss (log scale when it stays positive).

    A dotted magenta line marks the first step whose loss or gradient held NaN/Inf.

    Args:
        report: a :class:`~gradflow.training.result.TrainReport`.
        max_variables: draw at most this many variables in panels 1 and 2:
            flagged ones first, then trained ones, then the rest, each kept in
            report order. Defaults to 12.

    Returns:
        The figure, not yet written.
    """
    import numpy as np
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    styles = _styles(report)
    runs = _chosen(report, max_variables)
    steps = report.steps
    x_values = np.arange(steps + 1)
    x_steps = np.arange(1, steps + 1)
    with _rc():
        fig = Figure(figsize=(10.5, 8.6), layout="constrained")
        ax_v, ax_g, ax_l = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2, 1.5]})
        title = f"gradflow train · {report.source or report.target} · {steps} steps of {report.optimizer.describe()}"
        fig.suptitle(title, fontsize=11, fontweight="bold")

        # 1. values
        for run in runs:
            colour, style = styles[run.name]
            values = _nan_if_bad(run.values)
            # what moves is drawn bold; frozen lines thinner, so targets and learners stand out
            lw = (1.8 if run.verdict != "frozen" else 1.1) * (0.6 if run.sampled else 1.0)
            for j in range(values.shape[1] if values.ndim == 2 else 0):
                ax_v.plot(x_values, values[:, j], color=colour, linestyle=style, linewidth=lw,
                          label=_label(run) if j == 0 else None, zorder=2, gid=_gid("values", run.name, run.indices[j]))
        for watch in report.watches:
            values = _nan_if_bad(watch.values)
            for j in range(values.shape[1] if values.ndim == 2 else 0):
                ax_v.plot(x_values[: len(values)], values[:, j], color=WATCH_COLOUR, linestyle=(0, (4, 3)),
                          linewidth=1.3, label=f"{watch.label} (watched)" if j == 0 else None, zorder=3,
                          gid=_gid("watch", watch.label, watch.indices[j]))
        eligible = sum(_on_value_panel(r) for r in report.variables)
        shown = f"{len(runs)} of {eligible} trainable float variables" if len(runs) < len(report.variables) else ""
        ax_v.set_title("variable values" + (f" ({shown}; the JSON has all)" if shown else ""), loc="left")
        ax_v.set_ylabel("value")
        if runs or report.watches:
            ax_v.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8,
                        handlelength=3.2)

        # 2. gradient norms
        drawn = False
        no_grad = []
        for run in runs:
            if run.grad_norms is None:
                if run.trained:
                    no_grad.append(f"{run.name} ({run.static_status})" if run.static_status else run.name)
                continue
            colour, style = styles[run.name]
            norms = _nan_if_bad(run.grad_norms, positive=True)
            if np.all(np.isnan(norms)):
                continue
            ax_g.plot(x_steps, norms, color=colour, linestyle=style, linewidth=1.4, zorder=2,
                      gid=_gid("grad", run.name))
            drawn = True
        if drawn:
            ax_g.set_yscale("log")
        notes = []
        if no_grad:
            notes.append("no gradient: " + ", ".join(no_grad))
        if not drawn:
            notes.append("no nonzero finite gradient to draw")
        if notes:
            ax_g.text(0.99, 0.96, "\n".join(notes), transform=ax_g.transAxes, ha="right", va="top", zorder=5,
                      fontsize=8, color=style_of("blocked").colour if no_grad else "#444444",
                      bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 2})
        ax_g.set_title("gradient norm ‖∂loss/∂v‖ (log scale)", loc="left")
        ax_g.set_ylabel("‖grad‖")

        # 3. loss
        loss = np.asarray(report.loss, dtype=np.float64)
        finite = loss[np.isfinite(loss)]
        positive = finite.size > 0 and bool(np.all(finite > 0))
        ax_l.plot(x_steps, _nan_if_bad(loss), color="#1f1f1f", linewidth=1.4, gid="loss")
        if positive:
            ax_l.set_yscale("log")
        ax_l.set_title("loss" + (" (log scale)" if positive else ""), loc="left")
        ax_l.set_ylabel("loss")
        ax_l.set_xlabel("step")
        ax_l.set_xlim(0, max(steps, 1))
        ax_l.xaxis.set_major_locator(MaxNLocator(integer=True))

        for ax in (ax_v, ax_g, ax_l):
            _mark_nonfinite(ax, report.first_nonfinite_step)
            ax.grid(True, color="#e4e4e4", linewidth=0.6)
        if report.first_nonfinite_step is not None:
            ax_l.text(report.first_nonfinite_step, 1.0, f" first NaN/Inf: step {report.first_nonfinite_step}",
                      transform=ax_l.get_xaxis_transform(), color=NONFINITE_COLOUR, fontsize=8, va="top")
    return fig


def layer_groups(report: "TrainReport") -> list[tuple[str, list]]:
    """Trained variables grouped by layer: the name up to its last ``/`` (Keras: the layer's path).

    Returns:
        ``[(layer, [VariableRun, ...]), ...]`` in report order.
    """
    groups: dict[str, list] = {}
    for run in report.variables:
        if not run.trained:
            continue
        layer = run.name.rsplit("/", 1)[0] if "/" in run.name else run.name
        groups.setdefault(layer, []).append(run)
    return list(groups.items())


def _layer_stats(runs: list, index: int) -> tuple[float | None, float | None]:
    """(mean |grad| weighted by size, max |grad|) over a layer's variables at step ``index``."""
    total = count = 0.0
    peak = None
    for run in runs:
        if run.grad_abs_means is None:
            continue
        mean, big = run.grad_abs_means[index], run.grad_abs_maxes[index]
        total += mean * run.size
        count += run.size
        peak = big if peak is None or not math.isfinite(big) or big > peak else peak
    if count == 0:
        return None, None
    return total / count, peak


def layer_figure(report: "TrainReport") -> "Figure":
    """Gradient flow by layer ("plot_grad_flow"): mean and max |gradient| per layer, first and last step.

    One panel per step (1 and N); per layer a light bar for max |grad| and a
    solid bar for mean |grad|, coloured by the layer's worst static status, on
    a log scale. Layers whose gradient is None say "no gradient"; an all-zero
    one says "0"; vanishing gradients show as bars that shrink layer by layer
    toward the input, exploding ones as bars that grow.
    """
    import numpy as np
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    groups = layer_groups(report)
    if not groups:
        raise RenderError("no trained variable to draw gradients for: the model has no trainable float variable.")
    names = [g[0] for g in groups]
    width = min(MAX_LAYER_FIGURE_WIDTH, max(8.0, 2.5 + 0.4 * len(names)))
    label_every = max(1, math.ceil(len(names) / MAX_LAYER_LABELS))
    with _rc():
        fig = Figure(figsize=(width, 7.0), layout="constrained")
        axes = fig.subplots(2, 1, sharex=True, sharey=True)
        fig.suptitle(f"gradient flow by layer\n{report.source or report.target} · {report.steps} steps of "
                     f"{report.optimizer.describe()}", fontsize=11, fontweight="bold")
        xs = np.arange(len(names))
        statuses_seen = []
        any_bar = False
        for ax, index, label in ((axes[0], 0, "step 1"), (axes[1], -1, f"step {report.steps}")):
            for x, (layer, runs) in zip(xs, groups):
                status = next((s for s in STATUS_ORDER if any(r.static_status == s.value for r in runs)), None)
                colour = _colour(status.value if status else None)
                if status is not None and status not in statuses_seen:
                    statuses_seen.append(status)
                mean, peak = _layer_stats(runs, index)
                marker = None
                if mean is None:
                    marker = "no gradient"
                elif not (math.isfinite(mean) and math.isfinite(peak)):
                    marker = "NaN/Inf"
                elif peak <= 0:
                    marker = "0"
                if marker:
                    ax.text(x, 0.02, marker, transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                            rotation=90, fontsize=8, color=colour)
                    continue
                ax.bar(x, peak, width=0.7, color=colour, alpha=0.35, zorder=2, gid=_gid("max", label, layer))
                if mean > 0:
                    ax.bar(x, mean, width=0.7, color=colour, alpha=1.0, zorder=3, gid=_gid("mean", label, layer))
                any_bar = True
            ax.set_title(f"{label}: mean and max |gradient| per layer", loc="left")
            ax.set_ylabel("|grad|")
            ax.grid(True, axis="y", color="#e4e4e4", linewidth=0.6)
        if any_bar:
            axes[0].set_yscale("log")
        # many layers: label every k-th one (the JSON names them all)
        shown = xs[::label_every]
        axes[1].set_xticks(shown, [names[i] for i in shown], rotation=45 if label_every == 1 else 90,
                           ha="right" if label_every == 1 else "center", fontsize=8 if label_every == 1 else 6)
        axes[1].set_xlim(-0.6, len(names) - 0.4)
        handles = [Patch(color="#555555", alpha=0.35, label="max |grad|"),
                   Patch(color="#555555", alpha=1.0, label="mean |grad|")]
        handles += [Patch(color=style_of(s).colour, label=f"{style_of(s).label}") for s in statuses_seen]
        axes[0].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    return fig


class _rc:
    """``matplotlib.rc_context`` with gradflow's settings, imported lazily."""

    def __enter__(self) -> None:
        import matplotlib

        self._ctx = matplotlib.rc_context(RC)
        self._ctx.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._ctx.__exit__(*exc)


def _render(fig: "Figure", fmt: str) -> bytes:
    buffer = io.BytesIO()
    with _rc():
        fig.savefig(buffer, format=fmt, metadata=METADATA[fmt], dpi=150 if fmt == "png" else 100)
    return buffer.getvalue()


def figure_svg(fig: "Figure") -> str:
    """The figure as SVG text (deterministic)."""
    return _render(fig, "svg").decode("utf-8")


def write_figure(fig: "Figure", path: str) -> str:
    """Write ``fig`` to ``path`` in the format its suffix names (.svg, .png, .pdf).

    Returns:
        ``path``.

    Raises:
        RenderError: an unknown suffix, or a folder that does not exist.
    """
    from ..writing import write_atomic

    fmt = os.path.splitext(path)[1].lstrip(".").lower()
    if fmt not in METADATA:
        raise RenderError(f"cannot tell the plot format of {path}: use a name ending in .svg, .png or .pdf.")
    write_atomic(path, _render(fig, fmt))
    return path
