"""What ``gradflow diff`` shows: the terminal table, Markdown for a pull request, the picture.

Drawn from a :class:`~gradflow.diff.Diff` alone (its two report dicts included),
so JSON sides draw as model files do. Every user string goes through
:mod:`gradflow.render.text`: inert in Markdown (no HTML, links or table breaks)
and visible in the terminal (control characters escaped).
"""

from __future__ import annotations

from typing import Any

from ..diff import ORDER, Diff, decisive_first, path_counts, where_of
from .text import markdown_code, markdown_text, visible

__all__ = ["diff_renderable", "render_text", "diff_markdown", "diff_digraph", "write_picture", "MAX_UNCHANGED"]


_SYMBOL = {"regression": "✗", "improvement": "✓", "cut-added": "+", "cut-removed": "-", "added": "+",
           "removed": "-"}
_COLOUR = {"regression": "#c62828", "improvement": "#2e7d32", "cut-added": "#e69500", "cut-removed": "#546e7a",
           "added": "#1565c0", "removed": "#8a8a8a"}


def _side(value: str | None) -> str:
    return value if value is not None else "-"


def diff_renderable(diff: Diff) -> Any:
    """The terminal view: a headline and one table row per change."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    title = Text.assemble(("gradflow diff  ", "bold"), visible(diff.before), " → ", visible(diff.after))
    if not diff.changes:
        return Group(title, Text("no gradient-flow changes", style="green"))
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for col in ("kind", "name", "before", "after", "why"):
        table.add_column(col, overflow="fold")
    for c in diff.changes:
        table.add_row(Text(f"{_SYMBOL[c.kind]} {c.kind}", style=_COLOUR[c.kind]), Text(visible(c.name)),
                      Text(visible(_side(c.before))), Text(visible(_side(c.after))), Text(visible(c.why)))
    style = "bold red" if diff.regressions else "bold"
    return Group(title, Text(""), table, Text(""), Text(diff.headline(), style=style))


def render_text(diff: Diff, *, width: int = 120) -> str:
    """The terminal view as plain text (no colour)."""
    from rich.console import Console

    console = Console(color_system=None, width=width, record=False, file=None, highlight=False)
    with console.capture() as capture:
        console.print(diff_renderable(diff))
    return capture.get()


def _md(text: str | None) -> str:
    """A Markdown table cell of plain text: inert, on one line."""
    return "-" if text is None else markdown_text(text)


def _code(text: str | None) -> str:
    return "-" if text is None else markdown_code(text, table=True)


def diff_markdown(diff: Diff) -> str:
    """Markdown for a pull-request comment: a headline and a table of the changes."""
    lines = [f"### gradflow diff: {_code(diff.before)} → {_code(diff.after)}", ""]
    if not diff.changes:
        lines.append("No gradient-flow changes.")
        return "\n".join(lines) + "\n"
    n = len(diff.regressions)
    if n:
        lines.append(f"**{n} trainable variable{'s' if n != 1 else ''} stopped receiving gradient.** "
                     f"{diff.headline()}.")
    else:
        lines.append(f"No regression. {diff.headline()}.")
    lines += ["", "| | change | name | before | after | why |", "|---|---|---|---|---|---|"]
    for c in diff.changes:
        lines.append(f"| {_SYMBOL[c.kind]} | {c.kind} | {_code(c.name)} | {_md(c.before)} | {_md(c.after)} "
                     f"| {_md(c.why)} |")
    return "\n".join(lines) + "\n"


# -- the picture ------------------------------------------------------------------
MAX_UNCHANGED = 40  # unchanged variables drawn one by one; more become one node


def diff_digraph(diff: Diff) -> Any:
    """A ``graphviz.Digraph``: variables -> cuts -> loss, the changed ones highlighted.

    Legend: a thick outline marks a changed variable or cut (red: regression,
    green: improvement, amber: cut added, blue: added; dashed: removed); the fill
    is the variable's status colour after (before, for a removed one); unchanged
    variables are pale. An edge into the loss means a gradient flows; a variable
    whose paths are cut points at its decisive cut. Drawn from the two reports
    alone, so JSON sides work too.
    """
    import graphviz

    from .dotsyntax import dot_id
    from .theme import GRAPH_FONT, LOSS_COLOUR, STATUS_STYLES, STATUS_TINTS
    from ..schema import Status

    g = graphviz.Digraph("gradflow_diff", graph_attr={
        "rankdir": "LR", "fontname": GRAPH_FONT, "label": f"gradflow diff: {diff.before} → {diff.after}",
        "labelloc": "t", "fontsize": "12"},
        node_attr={"fontname": GRAPH_FONT, "fontsize": "10", "shape": "box", "style": "rounded,filled"},
        edge_attr={"fontname": GRAPH_FONT, "fontsize": "9"})
    g.node("loss", "loss", shape="doubleoctagon", style="filled", fillcolor=LOSS_COLOUR, fontcolor="#ffffff")
    # Changes of a variable: its status, being added or removed, or a partial cut (named by the variable).
    changed = {c.name: c for c in diff.changes
               if c.kind not in ("cut-added", "cut-removed") or (c.before == "flows" and c.after == "flows")}
    after = {v["name"]: v for v in diff.after_report.get("variables", [])}
    before = {v["name"]: v for v in diff.before_report.get("variables", [])}
    names = list(after) + [n for n in before if n not in after]
    unchanged = [n for n in names if n not in changed]
    drawn = [n for n in names if n in changed] + (unchanged if len(unchanged) <= MAX_UNCHANGED else [])
    cuts: dict[str, dict] = {}  # cut node id -> its attributes (the strongest change colours it)

    def cut_node(blocker: dict, kind: str | None, dashed: bool = False) -> str:
        where = where_of(blocker)
        node = dot_id("cut:" + where + ":" + str(blocker.get("type") or blocker.get("op") or ""))
        old = cuts.get(node)
        if old is None or (kind is not None and (old["kind"] is None or ORDER[kind] < ORDER[old["kind"]])):
            cuts[node] = {"label": _rows(str(blocker.get("type") or "cut"), where), "kind": kind,
                          "dashed": dashed and (old is None or old["dashed"])}
        return node

    for name in drawn:
        c = changed.get(name)
        v = after.get(name) or before[name]
        status = Status(v["status"])
        node = dot_id("var:" + name)
        if c is not None:
            change = f"{_side(c.before)} → {_side(c.after)}"
            if c.kind in ("cut-added", "cut-removed"):
                total, cut = path_counts(v)
                change += f", {cut} of {total} paths cut"
            label = _rows(name, change)
            colour = _COLOUR[c.kind]
            g.node(node, label, fillcolor=STATUS_STYLES[status].colour, fontcolor="#ffffff",
                   color=colour, penwidth="4", style="rounded,filled" + (",dashed" if c.kind == "removed" else ""))
        else:
            g.node(node, _rows(name, status.value), fillcolor=STATUS_TINTS[status], color="#b0b0b0")
        if c is not None and c.kind == "removed":
            continue
        if status is Status.DISCONNECTED:
            continue
        blockers = v.get("blockers") or []
        if v["status"] == "flows" or not blockers:
            g.edge(node, "loss", color=STATUS_STYLES[status].colour)
            if not (v["status"] == "flows" and blockers):
                continue
        first = decisive_first([b for b in blockers if isinstance(b, dict)])[0]
        cut = cut_node(first, c.kind if c is not None else None)
        g.edge(node, cut, color=_COLOUR[c.kind] if c is not None else "#b0b0b0",
               penwidth="2" if c is not None else "1")
    if len(unchanged) > MAX_UNCHANGED:
        g.node("unchanged", f"{len(unchanged)} unchanged variables", fillcolor="#eeeeee", color="#b0b0b0")
    for c in diff.of_kind("cut-added", "cut-removed"):
        if c.name in changed:
            continue
        stop = {"op": c.name, "type": "StopGradient",
                "location": _location_dict(c.after if c.kind == "cut-added" else c.before)}
        cut_node(stop, c.kind, dashed=c.kind == "cut-removed")
    for node, attrs in cuts.items():
        colour = _COLOUR[attrs["kind"]] if attrs["kind"] else "#b0b0b0"
        g.node(node, attrs["label"], shape="octagon", style="filled" + (",dashed" if attrs["dashed"] else ""),
               fillcolor="#ffebee", color=colour, penwidth="3" if attrs["kind"] else "1")
        if not attrs["dashed"]:
            g.edge(node, "loss", style="dashed", color="#c62828", arrowhead="tee")
    return g


def _rows(*rows: str) -> str:
    """A Graphviz HTML-like label of plain-text rows."""
    from .dotsyntax import html_text

    return "<" + "<BR/>".join(html_text(r) for r in rows) + ">"


def _location_dict(where: str | None) -> dict | None:
    if not where or ":" not in where:
        return None
    file, _, line = where.rpartition(":")
    return {"file": file, "line": line} if line.isdigit() else None


def write_picture(diff: Diff, path: str, *, timeout: float = 60.0) -> None:
    """Write the diff picture to ``path`` (.svg, .png, .pdf or .dot).

    Raises:
        RenderError: an unknown suffix, Graphviz missing or failing.
    """
    from ..errors import RenderError
    from ..writing import format_of, write_atomic
    from .files import run_dot

    fmt = format_of(path)
    if fmt == "html":
        raise RenderError(f"{path}: the diff picture is .svg, .png, .pdf or .dot, not HTML.")
    source = diff_digraph(diff).source
    if fmt == "dot":
        write_atomic(path, source)
        return
    write_atomic(path, run_dot(source, fmt, timeout=timeout))
