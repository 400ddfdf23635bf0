"""The terminal report, as rich renderables. Problems first.

Layout: a header (file, target, inputs); the headline verdict; a non-finite
loss; then, for a small model, the variable table, and for a large one only
the trainable variables that do not learn; the fixes; the cuts the user
wrote; one line counting what does not learn by design; tracking; notes.
``show_all`` (``--all``) lists every variable and every StopGradient;
``layers`` (``--layers``) adds the layer view.

No column ever splits a name or a path mid-token: when the table cannot fit
the console, each row's ``why`` folds under it, indented.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Sequence

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from ..schema import NO_NUMERIC_CHECK, Status, shape_text
from .overview import decisive_blocker, is_library_cut, layer_rows, overview
from .text import rich_text as _rich_text
from .text import visible
from .theme import style_of

if TYPE_CHECKING:
    from ..report import Report
    from ..schema import VariableReport

__all__ = ["report_renderable", "render_text", "short_text", "GROUP_THRESHOLD", "fix_entries",
           "title_line", "DEFAULT_WIDTH"]

GROUP_THRESHOLD = 40  # above this many variables, only the problems are listed (``--all``: every one)
PROBLEM_LIMIT = 40
SHORT_TABLE = 12  # a table this short shows its problems at a glance: no separate list above it
FIX_LIMIT = 20
DEFAULT_WIDTH = 120  # piped output with no COLUMNS
MIN_WHY = 40  # narrower than this, ``why`` folds under its row


def escape(text: str) -> str:
    """A user string for rich markup, on one line, control and bidi characters made visible."""
    return _rich_text(text, newlines=False)


def _shape(shape: tuple | None) -> str:
    return shape_text(shape)


def _norm(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}"


def _status_text(status: object, *, quiet: bool = False) -> Text:
    """The status word with its symbol; ``quiet`` (expected not to learn): grey, never red."""
    st = style_of(status)
    if quiet and Status(status) is not Status.FLOWS:
        return Text(f"{style_of(Status.DISCONNECTED).symbol} {st.label}", style="dim")
    return Text(f"{st.symbol} {st.label}", style=f"bold {st.colour}")


def _quiet(v: "VariableReport") -> bool:
    """Not learning by design (a non-trainable variable, one frozen on purpose)."""
    return v.expected is True or (not v.trainable and v.status is not Status.FLOWS)


def title_line(title: str, source: str | None, target: str, kind: str) -> Text:
    """``TITLE  FILE  target NAME (kind)``: the first line of every terminal report."""
    text = Text()
    text.append(title, style="bold")
    if source:  # one line whatever the file's name holds: a newline shows as \n
        text.append(f"  {visible(source, tabs=False)}")
    text.append("  target ")
    text.append(visible(target, tabs=False), style="bold")
    text.append(f" ({kind})")
    return text


def _header(report: "Report") -> Text:
    text = title_line("gradflow", report.source, report.target, report.kind)
    if report.inputs:
        text.append(f"\ninputs: {report.inputs}", style="dim")
    loss = report.loss
    if loss is not None and loss.finite and loss.value is not None:
        text.append(f"\nloss: {loss.value:.6g}", style="dim")  # a non-finite loss leads the problems instead
    return text


class FoldingTable:
    """A table whose last column (``why``) folds under its row when the console is too narrow.

    Every other column is ``no_wrap``: a name or a path is never split. The
    last column keeps its own line when it has at least ``MIN_WHY`` columns
    (and room for its longest word); otherwise each row is followed by its
    ``why``, indented by four. When even the other columns do not fit, the
    ``optional`` ones are left out, in that order.
    """

    def __init__(self, headers: Sequence[str], rows: Sequence[Sequence[Any]], *,
                 right: Sequence[int] = (), optional: Sequence[int] = ()) -> None:
        self.headers = list(headers)
        self.rows = [list(r) for r in rows]
        self.right = set(right)
        self.optional = list(optional)

    @staticmethod
    def _width(cell: Any) -> int:
        return Text(cell).cell_len if isinstance(cell, str) else cell.cell_len

    def _table(self, columns: list[int]) -> Table:
        table = Table(show_edge=False, header_style="bold", pad_edge=False, expand=False)
        last = len(self.headers) - 1
        for i in columns:
            table.add_column(self.headers[i], no_wrap=i != last, overflow="fold",
                             justify="right" if i in self.right else "left")
        for row in self.rows:
            table.add_row(*(row[i] for i in columns))
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        last = len(self.headers) - 1
        widths = [max([self._width(h)] + [self._width(r[i]) for r in self.rows])
                  for i, h in enumerate(self.headers[:-1])]
        columns = list(range(last))
        for drop in [None] + self.optional:
            if drop is not None:
                columns.remove(drop)
            if sum(widths[i] for i in columns) + 3 * (len(columns) - 1) <= options.max_width:
                break
        whys = [r[-1] for r in self.rows]
        longest_word = max((len(w) for t in whys for w in str(t.plain if isinstance(t, Text) else t).split()),
                           default=0)
        need = sum(widths[i] for i in columns) + 3 * len(columns) + max(MIN_WHY, min(longest_word, 60))
        if need <= options.max_width or not any(str(w) for w in whys):
            yield self._table(columns + [last])
            return
        lines = console.render_lines(self._table(columns), options, pad=False)
        yield from _lines(lines[:2])
        for line, why in zip(lines[2:], whys):
            yield from _lines([line])
            text = why if isinstance(why, Text) else Text(str(why))
            if text.plain:
                yield _Hang(text, 4, 4)


def _lines(lines: list[list[Segment]]) -> RenderResult:
    for line in lines:
        yield from line
        yield Segment.line()


def _variable_table(variables: "Sequence[VariableReport]") -> FoldingTable:
    rows = [[escape(v.name), _shape(v.shape), "yes" if v.trainable else "no", _status_text(v.status, quiet=_quiet(v)),
             _norm(v.grad_norm), Text(v.why, style="dim" if _quiet(v) else "")] for v in variables]
    return FoldingTable(["variable", "shape", "trainable", "status", "grad norm", "why"], rows, right=(4,),
                        optional=(1, 2, 4))


def _problem_table(variables: "Sequence[VariableReport]") -> FoldingTable:
    rows = []
    for v in variables:
        b = decisive_blocker(v)
        where = (f"{b.type} at {b.location}" if b.location else b.type) if b else "-"
        rows.append([escape(v.name), _shape(v.shape), _status_text(v.status), where, Text(v.why)])
    return FoldingTable(["variable", "shape", "status", "cut", "why"], rows, optional=(1, 3))


def _layer_table(report: "Report") -> FoldingTable:
    rows = []
    for row in layer_rows(report.variables):
        worst = next((v.status for v in row.problems), None)
        st = style_of(worst if worst is not None else Status.FLOWS)
        learns = any(v.trainable and v.status is Status.FLOWS for v in row.variables)
        symbol = st.symbol if worst is not None or learns else style_of(Status.DISCONNECTED).symbol
        status = Text(f"{symbol} ", style=f"bold {st.colour}" if worst is not None or learns else "dim")
        status.append(row.status_text(), style="" if worst is not None else "dim")
        rows.append([escape(row.name), row.layer_class or "-", f"{row.params:,}", status])
    return FoldingTable(["layer", "class", "params", "status"], rows, right=(2,), optional=(2, 1))


def fix_entries(variables: "Sequence[VariableReport]") -> list[tuple[list[str], str, str]]:
    """(variables, where, fix) for every distinct cut of a trainable variable that does not learn.

    Keyed by the cut: one line per op (per source line, where ops share one:
    a tf.distribute replica or a Python loop makes one op per turn), naming
    every variable it stops. Where the explanation marks a decisive cut, only
    that one is listed.
    """
    entries: "OrderedDict[tuple[str, str], tuple[list[str], str, str]]" = OrderedDict()
    for v in variables:
        if v.status is Status.FLOWS or not v.trainable or v.expected:  # an expected variable gets no fix
            continue
        decided = any(b.decisive is not None for b in v.blockers)
        blockers = [b for b in v.blockers if b.decisive] if decided else (
            [b for b in v.blockers if not is_library_cut(b.op, b.origin)] or list(v.blockers))
        for b in blockers:
            if not b.fix:
                continue
            call = getattr(b, "call", None)
            if call and (b.origin or "").startswith("library:"):
                where = f"{call} at {b.where()}"  # one fix per call of the user's, not per internal op
            else:
                where = f"{b.type} at {b.where()}" if b.location else b.op
            key = (where, b.fix)
            if key not in entries:
                entries[key] = ([], where, b.fix)
            if v.name not in entries[key][0]:
                entries[key][0].append(v.name)
    return list(entries.values())


def _hanging(text: Text, indent: int = 2, hang: int = 4) -> "_Hang":
    """``text`` at ``indent``, its continuation lines at ``hang``."""
    return _Hang(text, indent, hang)


class _Hang:
    """Text starting at column ``indent``, its continuation lines at ``hang``; no trailing blanks."""

    def __init__(self, text: Text, indent: int, hang: int) -> None:
        self.text = text
        self.indent = indent
        self.hang = hang

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        lines = list(self.text.wrap(console, max(1, width - self.indent)))
        if len(lines) > 1:
            rest = Text(" ").join(lines[1:])
            lines = lines[:1] + list(rest.wrap(console, max(1, width - self.hang)))
        for i, line in enumerate(lines):
            line.rstrip()
            yield Segment(" " * (self.indent if i == 0 else self.hang))
            yield from line.render(console)
            yield Segment.line()


def _fixes(report: "Report") -> list[RenderableType]:
    entries = fix_entries(list(report.variables))
    if not entries:
        return []
    out: list[RenderableType] = [Text(), Text("fixes:", style="bold")]
    for names, where, fix in entries[:FIX_LIMIT]:
        shown = ", ".join(names[:4]) + (f" (+{len(names) - 4} more)" if len(names) > 4 else "")
        line = Text()
        line.append(shown, style="bold")
        line.append(f" · {where}: ", style="dim")
        line.append(fix)
        out.append(_hanging(line))
    if len(entries) > FIX_LIMIT:
        out.append(Text(f"  ... and {len(entries) - FIX_LIMIT} more cuts (--format json lists them all)", style="dim"))
    return out


def _user_cuts(report: "Report", show_all: bool) -> list[RenderableType]:
    ov = overview(report)
    cuts = report.stop_gradients if show_all else ov.user_cuts
    if not cuts:
        return []
    title = "StopGradient ops:" if show_all else "cuts you wrote:"
    out: list[RenderableType] = [Text(), Text(title, style="bold")]
    for sg in cuts:
        line = Text()
        line.append(f"tf.stop_gradient at {sg.location}" if sg.location else sg.op)
        shields = [n for n in sg.shields if _trainable(report, n)]
        if shields:
            line.append(" · every path of ", style="dim")
            line.append(", ".join(shields[:8]) + (f" (+{len(shields) - 8} more)" if len(shields) > 8 else ""),
                        style="bold")
        else:
            line.append(" · no variable entirely", style="dim")
        out.append(_hanging(line))
    return out


def _trainable(report: "Report", name: str) -> bool:
    try:
        return report.variable(name).trainable
    except KeyError:
        return True


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


def headline_text(report: "Report") -> Text:
    ov = overview(report)
    if ov.healthy:
        return Text(f"✓ {ov.headline}", style=f"bold {style_of(Status.FLOWS).colour}")
    # Any unexpected problem reads as one: a trainable variable the loss never reads is no grey matter.
    worst = ov.problems[0].status if ov.problems else Status.NONFINITE
    if worst is Status.DISCONNECTED:
        worst = Status.BLOCKED
    return Text(f"{style_of(worst).symbol} {ov.headline}", style=f"bold {style_of(worst).colour}")


def report_renderable(report: "Report", *, show_all: bool = False, layers: bool = False) -> RenderableType:
    """The whole terminal report as one rich renderable, problems first.

    Args:
        report: the report.
        show_all: list every variable and every StopGradient even when there are
            more than ``GROUP_THRESHOLD`` variables.
        layers: add the layer view (variables grouped by owning layer).
    """
    ov = overview(report)
    parts: list[RenderableType] = [_header(report), Text(), headline_text(report)]
    if ov.loss_problem:
        parts.append(Text(f"  {ov.loss_problem}", style=style_of(Status.NONFINITE).colour))
    variables = list(report.variables)
    small = len(variables) <= GROUP_THRESHOLD
    # The problems stand first, unless the whole table is short enough to see them in it.
    if ov.problems and len(variables) > SHORT_TABLE:
        shown = ov.problems[:PROBLEM_LIMIT]
        parts += [Text(), Text(f"trainable variables that do not learn ({len(ov.problems)}):", style="bold"),
                  _problem_table(shown)]
        if len(ov.problems) > PROBLEM_LIMIT:
            parts.append(Text(f"... and {len(ov.problems) - PROBLEM_LIMIT} more (--all lists them)", style="dim"))
    if small or show_all:
        parts.append(Text())
        if ov.problems and len(variables) > SHORT_TABLE:
            parts.append(Text("all variables:", style="bold"))
        parts.append(_variable_table(variables))
    parts.extend(_fixes(report))
    parts.extend(_user_cuts(report, show_all))
    if ov.expected_line:
        parts += [Text(), _hanging(Text(f"expected: {ov.expected_line}", style="dim"), 0, 2)]
    if layers:
        parts += [Text(), _layer_table(report)]
    elif not small and not show_all:
        n_layers = len(layer_rows(variables))
        parts += [Text(), Text(f"{len(variables)} variables in {n_layers} layers: --layers shows the layers, "
                               "--all every variable.", style="dim")]
    parts.extend(_tracking(report))
    for note in report.notes:
        if ov.loss_problem and note.startswith("the loss is NaN or Inf"):
            continue  # already said first, under the headline
        parts.append(Text(f"note: {note}", style="yellow"))
    if not report.numeric:
        parts.append(Text(NO_NUMERIC_CHECK, style="dim"))
    return Group(*parts)


def text_console(width: int) -> Console:
    """A console that renders plain text to a string, even inside Jupyter."""
    return Console(width=width, color_system=None, force_terminal=False, force_jupyter=False,
                   force_interactive=False, file=io.StringIO(), highlight=False, legacy_windows=False)


def render_text(report: "Report", *, width: int = 100, show_all: bool = False, layers: bool = False) -> str:
    """The terminal report as plain text (no colour), e.g. for ``str(report)``."""
    console = text_console(width)
    with console.capture() as capture:
        console.print(report_renderable(report, show_all=show_all, layers=layers))
    return capture.get()


def short_text(report: "Report", *, limit: int = 10) -> str:
    """The headline and the problems in a few lines: ``repr(report)`` (small on any model)."""
    ov = overview(report)
    where = f" in {report.source}" if report.source else ""
    lines = [f"<gradflow.Report {report.target}{where}: {ov.headline}>"]
    if ov.loss_problem:
        lines.append(f"  {ov.loss_problem}")
    for v in ov.problems[:limit]:
        b = decisive_blocker(v)
        cut = f" at {b.type} {b.where()}" if b else ""
        lines.append(f"  {style_of(v.status).symbol} {v.name}: {v.status.value}{cut}")
    if len(ov.problems) > limit:
        lines.append(f"  ... and {len(ov.problems) - limit} more")
    if ov.expected_line:
        lines.append(f"  expected: {ov.expected_line}")
    text = "\n".join(lines)
    return text if len(text) <= 2000 else text[:1996] + " ..."
