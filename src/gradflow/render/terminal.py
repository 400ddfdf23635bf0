"""The terminal report, as rich renderables.

Layout: a header (file, target, inputs), the variable table (grouped by scope
when there are many), the StopGradient inventory, notes, and a summary line.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from .text import rich_text as _rich_text
from .text import visible


def escape(text: str) -> str:
    """A user string for rich markup, on one line, control and bidi characters made visible."""
    return _rich_text(text, newlines=False)
from rich.table import Table
from rich.text import Text

from ..report import NO_NUMERIC_CHECK
from .theme import STATUS_ORDER, style_of

if TYPE_CHECKING:
    from ..report import Report, VariableReport

__all__ = ["report_renderable", "render_text", "GROUP_THRESHOLD"]

GROUP_THRESHOLD = 40


def _shape(shape: tuple | None) -> str:
    if shape is None:
        return "?"
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def _norm(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}"


def _status_text(status: object) -> Text:
    st = style_of(status)
    return Text(f"{st.symbol} {st.label}", style=f"bold {st.colour}")


def title_line(title: str, source: str | None, target: str, kind: str) -> Text:
    """``TITLE  FILE  target NAME (kind)``: the first line of every terminal report."""
    text = Text()
    text.append(title, style="bold")
    if source:
        text.append(f"  {source}")
    text.append("  target ")
    text.append(target, style="bold")
    text.append(f" ({kind})")
    return text


def _header(report: "Report") -> Text:
    text = title_line("gradflow", report.source, report.target, report.kind)
    if report.inputs:
        text.append(f"\ninputs: {report.inputs}", style="dim")
    return text


def _variable_table(variables: "list[VariableReport]") -> Table:
    table = Table(title=None, show_edge=False, header_style="bold", pad_edge=False, expand=False)
    table.add_column("variable", no_wrap=True)
    table.add_column("shape", no_wrap=True)
    table.add_column("trainable", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("grad norm", justify="right", no_wrap=True)
    table.add_column("why", overflow="fold")
    for v in variables:
        table.add_row(
            escape(v.name),
            _shape(v.shape),
            "yes" if v.trainable else "no",
            _status_text(v.status),
            _norm(v.grad_norm),
            escape(v.why),
        )
    return table


def _group_key(name: str) -> str:
    return name.split("/", 1)[0] if "/" in name else "(top level)"


def _group_table(variables: "list[VariableReport]") -> Table:
    groups: "OrderedDict[str, list[VariableReport]]" = OrderedDict()
    for v in variables:
        groups.setdefault(_group_key(v.name), []).append(v)
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("scope", overflow="fold")
    table.add_column("variables", justify="right")
    table.add_column("worst", no_wrap=True)
    table.add_column("statuses", overflow="fold")
    table.add_column("why (first problem)", overflow="fold")
    for key, members in groups.items():
        worst = next(s for s in STATUS_ORDER if any(m.status is s for m in members))
        counts = ", ".join(
            f"{sum(m.status is s for m in members)} {style_of(s).label}"
            for s in STATUS_ORDER
            if any(m.status is s for m in members)
        )
        problem = next((m for m in members if m.why and m.status is worst), None)
        why = f"{problem.name}: {problem.why}" if problem else ""
        table.add_row(escape(key), str(len(members)), _status_text(worst), counts, escape(why))
    return table


def _stop_gradient_table(report: "Report") -> Table:
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("StopGradient op", overflow="fold")
    table.add_column("location", overflow="fold")
    table.add_column("shields", overflow="fold")
    for sg in report.stop_gradients:
        table.add_row(
            escape(sg.op),
            escape(str(sg.location)) if sg.location else "-",
            escape(", ".join(sg.shields)) if sg.shields else "(no variable entirely)",
        )
    return table


def _summary(report: "Report") -> Text:
    text = Text(report.headline(), style="bold")
    parts = []
    for status in STATUS_ORDER[::-1]:
        n = report.summary[status.value]
        if n:
            parts.append((f"{n} {style_of(status).label}", style_of(status).colour))
    if parts:
        text.append("  ·  ")
        for i, (label, colour) in enumerate(parts):
            if i:
                text.append(", ")
            text.append(label, style=colour)
    return text


def fix_entries(variables: "list[VariableReport]") -> list[tuple[list[str], str, str]]:
    """(variables, where, fix) for every distinct cut of a variable that does not learn.

    Keyed by the cut: one line per op (per source line, where ops share one:
    a tf.distribute replica or a Python loop makes one op per turn), naming
    every variable it stops.
    """
    entries: "OrderedDict[tuple[str, str], tuple[list[str], str, str]]" = OrderedDict()
    for v in variables:
        if v.status.value == "flows":
            continue
        for b in v.blockers:
            if not b.fix:
                continue
            where = f"{b.type} at {b.where()}" if b.location else b.op
            key = (where, b.fix)
            if key not in entries:
                entries[key] = ([], where, b.fix)
            if v.name not in entries[key][0]:
                entries[key][0].append(v.name)
    return list(entries.values())


FIX_LIMIT = 20


def _fixes(report: "Report") -> list[RenderableType]:
    entries = fix_entries(list(report.variables))
    if not entries:
        return []
    out: list[RenderableType] = [Text(), Text("fixes:", style="bold")]
    for names, where, fix in entries[:FIX_LIMIT]:
        shown = ", ".join(names[:4]) + (f" (+{len(names) - 4} more)" if len(names) > 4 else "")
        line = Text("  ")
        line.append(shown, style="bold")
        line.append(f" · {where}: ", style="dim")
        line.append(fix)
        out.append(line)
    if len(entries) > FIX_LIMIT:
        out.append(Text(f"  ... and {len(entries) - FIX_LIMIT} more cuts (--format json lists them all)", style="dim"))
    return out


def _tracking(report: "Report") -> list[RenderableType]:
    """Untracked variables and trainable ones the loss never reads, with where they were made."""
    parts: list[RenderableType] = []
    sections = (
        (report.untracked, "untracked: the loss reads these, but the model/module that owns it does "
                           "not list them in trainable_variables, so an optimizer given those never updates them"),
        (report.unread, "unread: trainable variables of the model/module that this loss never reads"),
    )
    for variables, title in sections:
        if not variables:
            continue
        parts.append(Text())
        parts.append(Text(title, style="bold yellow"))
        for v in variables:
            where = f"created at {v.created_at}" if v.created_at else "creation site not recorded"
            parts.append(Text(visible(f"  {v.name}  ({where})")))
    return parts


def report_renderable(report: "Report", *, show_all: bool = False) -> RenderableType:
    """The whole terminal report as one rich renderable.

    Args:
        report: the report.
        show_all: list every variable even when there are more than
            ``GROUP_THRESHOLD`` (otherwise they are grouped by scope).
    """
    parts: list[RenderableType] = [_header(report), Text()]
    variables = list(report.variables)
    if len(variables) > GROUP_THRESHOLD and not show_all:
        parts.append(_group_table(variables))
        problems = [v for v in variables if v.status.value != "flows" and v.trainable]
        if problems:
            parts.append(Text())
            parts.append(Text(f"trainable variables that do not learn ({len(problems)}):", style="bold"))
            parts.append(_variable_table(problems[:GROUP_THRESHOLD]))
            if len(problems) > GROUP_THRESHOLD:
                parts.append(Text(f"... and {len(problems) - GROUP_THRESHOLD} more", style="dim"))
        parts.append(Text(
            f"{len(variables)} variables grouped by scope; --all lists every one.", style="dim"))
    else:
        parts.append(_variable_table(variables))
    if report.stop_gradients:
        parts.append(Text())
        parts.append(_stop_gradient_table(report))
    parts.extend(_tracking(report))
    for note in report.notes:
        parts.append(Text(visible(f"note: {note}"), style="yellow"))
    if not report.numeric:
        parts.append(Text(NO_NUMERIC_CHECK, style="dim"))
    parts.append(Text())
    parts.append(_summary(report))
    parts.extend(_fixes(report))
    return Group(*parts)


def render_text(report: "Report", *, width: int = 100, show_all: bool = False) -> str:
    """The terminal report as plain text (no colour), e.g. for ``str(report)``."""
    console = Console(width=width, color_system=None, record=False, force_terminal=False)
    with console.capture() as capture:
        console.print(report_renderable(report, show_all=show_all))
    return capture.get()
