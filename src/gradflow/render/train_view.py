"""``gradflow train`` in the terminal: the result table and the progress bar (rich, on stderr)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Callable, Iterator

from .text import number

if TYPE_CHECKING:
    from ..training.result import TrainReport

__all__ = ["train_renderable", "progress_bar"]


@contextlib.contextmanager
def progress_bar(steps: int, enabled: bool) -> Iterator[Callable[[int, float], None] | None]:
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
            bar.update(task, completed=step, loss=number(loss))

        yield update


def train_renderable(report: "TrainReport") -> Any:
    """The terminal view: header, one row per variable, flagged disagreements, summary."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from .terminal import title_line
    from .theme import style_of

    header = title_line("gradflow train", report.source, report.target, report.kind)
    loss = report.loss
    header.append(f"\n{report.steps} step{'s' if report.steps != 1 else ''} of {report.optimizer.describe()}"
                  f"  ·  loss {number(loss[0])} → {number(loss[-1])}", style="dim")
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
            start, end = number(run.values[0][0]), number(run.values[-1][0])
        else:
            start, end = number(run.start_norm), number(run.end_norm)
        if not run.agrees:
            verdict = Text(f"⚠ {run.verdict}", style="bold " + style_of("blocked").colour)
        elif not run.trained:
            verdict = Text(f"· {run.verdict}", style="dim")
        else:
            verdict = Text(f"✓ {run.verdict}", style="bold")
        table.add_row(
            escape(run.name), status, start, end, number(run.delta_norm),
            number(run.max_grad_norm) if run.grad_norms is not None else "none",
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
