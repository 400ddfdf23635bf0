"""``gradflow diff BEFORE AFTER``: how gradient flow changed between two versions of a model.

Each side is a ``gradflow.report/1`` JSON object (from a model file inspected on
the spot, a saved ``--format json`` report, also one written by an older
gradflow without the newer optional fields, or a ``gradflow.baseline/1`` file).
Everything here works on those plain dicts: TF-free, and no field beyond the
contract's required ones is needed.

Variables are matched by name. The changes, in the order they are listed:

============== ============================================================
kind           when
============== ============================================================
regression     a trainable variable stopped receiving gradient: ``flows`` ->
               anything else, or ``zero``/``nonfinite`` -> ``blocked``/``disconnected``
improvement    the reverse
cut-added      a user ``tf.stop_gradient`` that shields variables is new, or a
               flowing variable became partially blocked (name: the variable)
cut-removed    the reverse of both
added          a variable only AFTER has
removed        a variable only BEFORE has
============== ============================================================

A move between two statuses of one rank (``blocked`` <-> ``disconnected``,
``zero`` <-> ``nonfinite``) is no change in whether the variable learns, and
non-trainable variables never regress: neither is listed.

``why`` says what did it: for a regression the decisive cut (``Blocker.decisive``
when the report has it, else the first cut with a source line) and its line.

```python
from gradflow.diff import diff_reports
d = diff_reports(old_dict, new_dict, before="old.json", after="model.py")
d.regressions          # the changes of kind "regression"
print(d.to_json())     # gradflow.diff/1
```
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .errors import ModelFileError, UsageError

__all__ = ["DIFF_SCHEMA", "KINDS", "Change", "Diff", "diff_reports", "load_report_json", "is_json_side",
           "as_report_dict", "baseline_as_report",
           "diff_markdown", "diff_renderable", "diff_digraph", "cut_text"]

DIFF_SCHEMA = "gradflow.diff/1"
KINDS = ("regression", "improvement", "cut-added", "cut-removed", "added", "removed")
REPORT_SCHEMAS = ("gradflow.report/1", "gradflow.baseline/1")

# Whether a variable learns, by status: a regression lowers it.
_RANK = {"flows": 2, "zero": 1, "nonfinite": 1, "blocked": 0, "disconnected": 0}
_ORDER = {kind: i for i, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class Change:
    """One difference between BEFORE and AFTER.

    Attributes:
        name: the variable's name, or for a StopGradient its op name.
        before: the variable's status before (a cut: its location), None when absent.
        after: the same after.
        kind: one of :data:`KINDS`.
        why: what did it, in words, with the source line.
    """

    name: str
    before: str | None
    after: str | None
    kind: str
    why: str

    def to_dict(self) -> dict:
        return {"name": self.name, "before": self.before, "after": self.after, "kind": self.kind, "why": self.why}


@dataclass(frozen=True)
class Diff:
    """Every change between two reports (``before``/``after``: how the sides were named)."""

    before: str
    after: str
    changes: tuple[Change, ...]
    before_report: dict = field(default_factory=dict, compare=False, repr=False)
    after_report: dict = field(default_factory=dict, compare=False, repr=False)

    def of_kind(self, *kinds: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind in kinds)

    @property
    def regressions(self) -> tuple[Change, ...]:
        return self.of_kind("regression")

    def counts(self) -> dict[str, int]:
        counts = {k: 0 for k in KINDS}
        for c in self.changes:
            counts[c.kind] += 1
        return counts

    def headline(self) -> str:
        """One line: how many changes of each kind, regressions first."""
        counts = self.counts()
        parts = [f"{n} {_plural(kind, n)}" for kind, n in counts.items() if n]
        return ", ".join(parts) if parts else "no gradient-flow changes"

    def to_dict(self) -> dict:
        """The contract's ``gradflow.diff/1`` object."""
        return {"schema": DIFF_SCHEMA, "before": self.before, "after": self.after,
                "changes": [c.to_dict() for c in self.changes]}

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def __rich__(self) -> Any:
        return diff_renderable(self)


def _plural(kind: str, n: int) -> str:
    if n == 1 or kind in ("cut-added", "cut-removed", "added", "removed"):
        return kind
    return kind + "s"


# -- reading a side ------------------------------------------------------------
def is_json_side(path: str) -> bool:
    """Whether ``path`` names a saved report (``.json``) rather than a model."""
    return str(path).lower().endswith(".json")


def load_report_json(path: str) -> dict:
    """A saved ``gradflow.report/1`` (or ``gradflow.baseline/1``) JSON file, as a report dict.

    Raises:
        ModelFileError: missing, not JSON, or not a gradflow report.
    """
    if not os.path.isfile(path):
        raise ModelFileError(f"{path} does not exist. Give a model file or a JSON report saved by "
                             "`gradflow inspect FILE --format json > report.json`.")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} is not a JSON file ({exc}). Save one with "
                             "`gradflow inspect FILE --format json > report.json`.") from None
    return as_report_dict(data, path)


def as_report_dict(data: Any, where: str) -> dict:
    """Check that ``data`` is a report (or baseline) object and return it as a report dict.

    Raises:
        ModelFileError: the object is not a gradflow report.
    """
    schema = data.get("schema") if isinstance(data, dict) else None
    if schema not in REPORT_SCHEMAS or not isinstance(data.get("variables"), list):
        raise ModelFileError(
            f"{where} is not a gradflow report (schema {schema!r}; expected {REPORT_SCHEMAS[0]!r} "
            "with a `variables` list). Save one with `gradflow inspect FILE --format json`.")
    for i, v in enumerate(data["variables"]):
        if not (isinstance(v, dict) and isinstance(v.get("name"), str) and v.get("status") in _RANK):
            raise ModelFileError(f"{where}: variables[{i}] has no `name` or a status gradflow does not know "
                                 f"({v!r:.120}). Save the report again with `gradflow inspect --format json`.")
    if schema == "gradflow.baseline/1":
        return baseline_as_report(data)
    return data


def baseline_as_report(data: dict) -> dict:
    """A ``gradflow.baseline/1`` object as the ``gradflow.report/1`` fields :mod:`gradflow.diff` reads."""
    variables = []
    for e in data["variables"]:
        partial = bool(e.get("partially_blocked"))
        cuts = [{"op": reason, "type": "", "location": None, "reason": reason} for reason in e.get("cuts") or []]
        variables.append({"name": e["name"], "status": e["status"], "trainable": e.get("trainable", True),
                          "paths": {"total": 2 if partial else 1, "blocked": 1 if partial else 0},
                          "blockers": cuts})
    stops = [{"op": s["op"], "location": None, "shields": list(s.get("shields") or [])}
             for s in data.get("stop_gradients") or []]
    return {"schema": "gradflow.report/1", "source": data.get("source"), "target": data.get("target"),
            "variables": variables, "stop_gradients": stops}


# -- reading one variable ------------------------------------------------------
def _where(blocker: dict) -> str:
    loc = blocker.get("location")
    if isinstance(loc, dict) and loc.get("file") is not None and loc.get("line") is not None:
        return f"{loc['file']}:{loc['line']}"
    return str(blocker.get("op") or blocker.get("type") or "an op")


def _decisive_first(blockers: Sequence[dict]) -> list[dict]:
    """The cut that explains the verdict first: decisive ones, else those with a source line."""
    decisive = [b for b in blockers if b.get("decisive") is True]
    if decisive:
        return decisive + [b for b in blockers if b.get("decisive") is not True]
    located = [b for b in blockers if isinstance(b.get("location"), dict)]
    return located + [b for b in blockers if not isinstance(b.get("location"), dict)]


def cut_text(blockers: Sequence[dict]) -> str:
    """``"tf.stop_gradient at model.py:31 (+1 more)"``: the decisive cut, or the first with a line."""
    ordered = _decisive_first([b for b in blockers if isinstance(b, dict)])
    if not ordered:
        return ""
    first = ordered[0]
    what = first.get("reason") or f"{first.get('type') or 'an op'} cuts the gradient"
    more = f" (+{len(ordered) - 1} more)" if len(ordered) > 1 else ""
    return f"{what} at {_where(first)}{more}"


def _paths(v: dict) -> tuple[int, int]:
    p = v.get("paths") if isinstance(v.get("paths"), dict) else {}
    return int(p.get("total") or 0), int(p.get("blocked") or 0)


def _partial(v: dict) -> bool:
    return v["status"] == "flows" and _paths(v)[1] > 0


def _trainable(v: dict) -> bool:
    return v.get("trainable", True) is not False


def _status_why(v: dict, *, now: bool = True) -> str:
    """Why a variable does not learn, in words."""
    status = v["status"]
    cuts = cut_text(v.get("blockers") or [])
    if status == "disconnected":
        return "the loss no longer reads it" if now else "the loss never read it"
    if status == "blocked":
        return cuts or "every path to the loss is cut"
    if status == "zero":
        return v.get("why") or "its gradient is all zero on the example inputs"
    if status == "nonfinite":
        return v.get("why") or "its gradient holds NaN or Inf on the example inputs"
    return ""


# -- the diff ------------------------------------------------------------------
def _variable_change(name: str, b: dict, a: dict) -> list[Change]:
    sb, sa = b["status"], a["status"]
    if _RANK[sa] < _RANK[sb]:
        if not _trainable(a):  # frozen with trainable=False, or never meant to learn
            return []
        return [Change(name, sb, sa, "regression", _status_why(a))]
    if _RANK[sa] > _RANK[sb]:
        was = _status_why(b, now=False)
        why = "receives gradient again" if sa == "flows" else f"gradient is a tensor again ({sa})"
        return [Change(name, sb, sa, "improvement", f"{why}; was: {was}" if was else why)]
    if sa == "flows" and sb == "flows" and _partial(a) != _partial(b):
        total, cut = _paths(a)
        if _partial(a):
            what = cut_text(a.get("blockers") or []) or "a cut"
            return [Change(name, sb, sa, "cut-added", f"partially blocked now: {cut} of {total} paths cut by {what}")]
        old_total, old_cut = _paths(b)
        what = cut_text(b.get("blockers") or [])
        return [Change(name, sb, sa, "cut-removed",
                       f"no path cut any more (was {old_cut} of {old_total}" + (f": {what})" if what else ")"))]
    return []


def _user_cuts(report: dict) -> list[dict]:
    """The StopGradients the user wrote that shield a variable (library cuts and shieldless ones left out)."""
    out = []
    for s in report.get("stop_gradients") or []:
        if not isinstance(s, dict) or not isinstance(s.get("op"), str):
            continue
        origin = s.get("origin")
        if origin is not None and origin != "user":
            continue
        if not s.get("shields"):
            continue
        out.append(s)
    return out


def _cut_changes(before: dict, after: dict) -> list[Change]:
    old, new = _user_cuts(before), _user_cuts(after)
    old_ops = {s["op"]: s for s in old}
    new_ops = {s["op"]: s for s in new}
    gone = [s for s in old if s["op"] not in new_ops]
    came = [s for s in new if s["op"] not in old_ops]
    # A cut that only got another op name (an earlier stop_gradient was added) still
    # shields the same variables: the same cut.
    same = {tuple(s["shields"]) for s in gone} & {tuple(s["shields"]) for s in came}
    changes = []
    for s in came:
        if tuple(s["shields"]) not in same:
            changes.append(Change(s["op"], None, _where(s), "cut-added",
                                  f"tf.stop_gradient at {_where(s)} now cuts every path of {_names(s['shields'])}"))
    for s in gone:
        if tuple(s["shields"]) not in same:
            changes.append(Change(s["op"], _where(s), None, "cut-removed",
                                  f"the tf.stop_gradient at {_where(s)} that cut {_names(s['shields'])} is gone"))
    return changes


def _names(names: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def _signature(v: dict) -> tuple:
    shape = v.get("shape")
    return (tuple(shape) if isinstance(shape, list) else shape, v.get("dtype"), v["status"])


def diff_reports(before: dict, after: dict, *, before_name: str = "before", after_name: str = "after") -> Diff:
    """Every change from report ``before`` to report ``after`` (``gradflow.report/1`` dicts).

    Args:
        before: the old report (``Report.to_dict()`` or a saved JSON; older
            reports without the optional fields work).
        after: the new report.
        before_name: how the diff names the old side (a file name).
        after_name: how it names the new side.

    Returns:
        The :class:`Diff`, changes ordered by kind (regressions first), then as
        the variables are ordered in the report.
    """
    b_vars = {v["name"]: v for v in before["variables"]}
    a_vars = {v["name"]: v for v in after["variables"]}
    order = {name: i for i, name in enumerate(list(a_vars) + [n for n in b_vars if n not in a_vars])}
    changes: list[Change] = []
    for name, a in a_vars.items():
        if name in b_vars:
            changes += _variable_change(name, b_vars[name], a)
    added = [n for n in a_vars if n not in b_vars]
    removed = [n for n in b_vars if n not in a_vars]
    # A renamed layer: one removed and one added variable of the same shape, dtype and status.
    by_sig: dict[tuple, list[str]] = {}
    for n in removed:
        by_sig.setdefault(_signature(b_vars[n]), []).append(n)
    renamed_from = {}
    for n in added:
        candidates = by_sig.get(_signature(a_vars[n]), [])
        if len(candidates) == 1 and sum(_signature(a_vars[m]) == _signature(a_vars[n]) for m in added) == 1:
            renamed_from[n] = candidates[0]
    renamed_to = {old: new for new, old in renamed_from.items()}
    for n in added:
        v = a_vars[n]
        why = f"new variable, {v['status']}"
        if v["status"] != "flows":
            why += f": {_status_why(v)}"
        if n in renamed_from:
            why += f" (renamed from {renamed_from[n]}?)"
        changes.append(Change(n, None, v["status"], "added", why))
    for n in removed:
        why = "no longer in the model"
        if n in renamed_to:
            why += f" (renamed to {renamed_to[n]}?)"
        changes.append(Change(n, b_vars[n]["status"], None, "removed", why))
    cut_changes = _cut_changes(before, after)
    keyed = [(_ORDER[c.kind], order.get(c.name, len(order)), c.name) for c in changes]
    changes = [c for _, c in sorted(zip(keyed, changes), key=lambda kc: kc[0])]
    changes += sorted(cut_changes, key=lambda c: (_ORDER[c.kind], c.name))
    changes.sort(key=lambda c: _ORDER[c.kind])  # stable: keeps the order within a kind
    return Diff(before_name, after_name, tuple(changes), before, after)


def failing(diff: Diff, fail_on: Iterable[str]) -> tuple[Change, ...]:
    """The changes ``--fail-on KIND,...`` matches."""
    kinds = set(fail_on)
    return tuple(c for c in diff.changes if c.kind in kinds)


# -- outputs ---------------------------------------------------------------------
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

    title = Text.assemble(("gradflow diff  ", "bold"), diff.before, " → ", diff.after)
    if not diff.changes:
        return Group(title, Text("no gradient-flow changes", style="green"))
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for col in ("kind", "name", "before", "after", "why"):
        table.add_column(col, overflow="fold")
    for c in diff.changes:
        table.add_row(Text(f"{_SYMBOL[c.kind]} {c.kind}", style=_COLOUR[c.kind]), Text(c.name),
                      Text(_side(c.before)), Text(_side(c.after)), Text(c.why))
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
    """A Markdown table cell: pipes escaped, no line breaks."""
    return ("-" if text is None else str(text)).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(text: str | None) -> str:
    if text is None:
        return "-"
    text = str(text).replace("\n", " ").replace("|", "\\|")
    return f"``{text}``" if "`" in text else f"`{text}`"


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

    from .render.dotsyntax import dot_id
    from .render.theme import GRAPH_FONT, LOSS_COLOUR, STATUS_STYLES, STATUS_TINTS
    from .schema import Status

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
        where = _where(blocker)
        node = dot_id("cut:" + where + ":" + str(blocker.get("type") or blocker.get("op") or ""))
        old = cuts.get(node)
        if old is None or (kind is not None and (old["kind"] is None or _ORDER[kind] < _ORDER[old["kind"]])):
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
                total, cut = _paths(v)
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
        first = _decisive_first([b for b in blockers if isinstance(b, dict)])[0]
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
    from .render.dotsyntax import html_text

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
    from .errors import RenderError
    from .outputs import format_of, write_atomic
    from .render.files import run_dot

    fmt = format_of(path)
    if fmt == "html":
        raise RenderError(f"{path}: the diff picture is .svg, .png, .pdf or .dot, not HTML.")
    source = diff_digraph(diff).source
    if fmt == "dot":
        write_atomic(path, source)
        return
    write_atomic(path, run_dot(source, fmt, timeout=timeout))


def check_fail_on(text: str) -> tuple[str, ...]:
    """``--fail-on`` for diff: kinds separated by commas, or ``none``.

    Raises:
        UsageError: an unknown kind.
    """
    items = tuple(s.strip() for s in text.split(",") if s.strip())
    if items == ("none",):
        return ()
    bad = [s for s in items if s not in KINDS]
    if bad or not items:
        raise UsageError(f"--fail-on: unknown change kind {', '.join(bad) or repr(text)}; "
                         f"choose from {', '.join(KINDS)}, or none")
    return items


# -- the command line ---------------------------------------------------------------
def _side_report(path: str, args: Any) -> dict:
    """One side as a report dict: a saved JSON as it is, a model file inspected on the spot."""
    if is_json_side(path):
        return load_report_json(path)
    from .api import inspect_file_quietly

    return inspect_file_quietly(path, target=args.target, inputs=args.inputs, strict=args.debug,
                                static=args.static).to_dict()


def cli_diff(args: Any) -> int:
    """``gradflow diff BEFORE AFTER``: print the diff, write the asked files, exit 1 on a failing change."""
    import sys

    from rich.console import Console

    from .outputs import format_of, write_atomic

    fail_on = check_fail_on(args.fail_on)
    pictures = list(args.output) + ([args.svg] if args.svg else [])
    for path in pictures:  # a bad suffix fails before any model is inspected
        if format_of(path) == "html":
            raise UsageError(f"-o {path}: the diff picture is .svg, .png, .pdf or .dot, not HTML.")
    before = _side_report(args.before, args)
    after = _side_report(args.after, args)
    diff = diff_reports(before, after, before_name=args.before, after_name=args.after)
    for path in pictures:
        write_picture(diff, path, timeout=args.render_timeout)
    if args.json_out:
        write_atomic(args.json_out, diff.to_json() + "\n")
    if args.markdown_out:
        write_atomic(args.markdown_out, diff_markdown(diff))
    if args.format == "json":
        sys.stdout.write(diff.to_json() + "\n")
    elif args.format == "markdown":
        sys.stdout.write(diff_markdown(diff))
    else:
        console = Console(highlight=False)
        if not console.is_terminal:
            console = Console(highlight=False, width=120)
        console.print(diff_renderable(diff))
    hits = failing(diff, fail_on)
    if hits:
        names = ", ".join(f"{c.name} ({c.kind})" for c in hits)
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"--fail-on matched: {names}", markup=False)
        return 1
    return 0
