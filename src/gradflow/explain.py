"""``gradflow explain``: one variable's status and why, path by path.

Pure functions on the report and its networkx graph (no TensorFlow): the
paths from the variable to the loss as compact op chains with source lines,
where each one is cut (reason and fix), and the gradient norm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from .analysis.paths import SKIPPED  # one definition of a path: the report's count and explain's list
from .fixes import fix_for
from .schema import select, shape_text

if TYPE_CHECKING:
    from .report import Report, VariableReport

__all__ = ["CutPoint", "PathInfo", "Explanation", "explain", "explain_renderable"]

PATH_LIMIT = 200  # paths enumerated per variable; the report's count says how many there are
SHOW_ALL_PATHS = 6  # up to this many distinct paths are listed one by one
CHAIN_MAX = 9  # ops shown per chain before the middle is elided
TRIVIAL = frozenset({"Identity", "IdentityN", "ReadVariableOp", "Const", "NoOp", "_Arg", "_Retval"})


@dataclass(frozen=True)
class CutPoint:
    """An op on a path from the variable where the gradient dies."""

    op: str
    type: str
    location: Any
    reason: str
    kind: str
    fix: str

    def where(self) -> str:
        return str(self.location) if self.location is not None else self.op


@dataclass(frozen=True)
class PathInfo:
    """One forward path: its node ids and the first cut on it (None when open)."""

    nodes: tuple[str, ...]
    cut: CutPoint | None


@dataclass
class Explanation:
    """Everything ``explain`` says about one variable."""

    variable: "VariableReport"
    paths: list[PathInfo] = field(default_factory=list)
    enumerated_all: bool = True
    cuts: list[CutPoint] = field(default_factory=list)
    flow: Any = field(default=None, repr=False)
    loss: str | None = None

    def __rich__(self) -> Any:
        return explanation_renderable(self)


def _cut_point(G: Any, node: str, report: "Report", shields: dict) -> CutPoint:
    data = G.nodes[node]
    cut = data.get("cut")
    reason, kind = (cut.reason if cut else ""), (cut.kind if cut else "")
    for v in report.variables:  # reuse the report's wording where it has this blocker
        for b in v.blockers:
            if b.op == node:
                return CutPoint(node, b.type, b.location, b.reason, b.kind, b.fix)
    loc = report.flow.location(node)
    fix = fix_for(cut, data["type"], node, loc, shields.get(node, ()))
    return CutPoint(node, data["type"], loc, reason, kind, fix)


def _step_graph(G: Any, skip: frozenset) -> Any:
    """Op-to-op steps over the edges :mod:`gradflow.analysis.paths` counts."""
    import networkx as nx

    step = nx.DiGraph()
    for a, b, d in G.edges(data=True):
        if d.get("via") not in skip:
            step.add_edge(a, b)
    return step


def _first_cut(G: Any, path: tuple[str, ...], report: "Report", shields: dict,
               skip: frozenset = SKIPPED) -> CutPoint | None:
    for u, v in zip(path, path[1:]):
        edges = [d for d in G.get_edge_data(u, v).values() if d.get("via") not in skip]
        if edges and not any(d["open"] for d in edges):
            d = edges[0]
            node = u if d.get("cut_at") == "tail" else v
            return _cut_point(G, node, report, shields)
    return None


def explain(report: "Report", name: str) -> Explanation:
    """Explain the variable called ``name`` (exact name)."""
    import networkx as nx

    v = report.variable(name)
    exp = Explanation(variable=v)
    flow = report.flow
    if flow is None or v.node is None or v.node not in flow.G:
        return exp
    G, loss = flow.G, flow.loss
    exp.flow, exp.loss = flow, loss
    skip = SKIPPED
    step = _step_graph(G, skip)
    if v.node not in step or loss not in step or v.node not in nx.ancestors(step, loss):
        skip = SKIPPED - {"shape"}  # as count_paths: a variable only read for its shape gets those paths
        step = _step_graph(G, skip)
    if v.node not in step or loss not in step:
        return exp
    on_path = (nx.descendants(step, v.node) | {v.node}) & (nx.ancestors(step, loss) | {loss})
    if v.node not in nx.ancestors(step, loss):
        return exp  # the loss never reads it: no path to show
    sub = step.subgraph(on_path)
    shields = {s.op: s.shields for s in report.stop_gradients}
    paths = list(islice(nx.all_simple_paths(sub, v.node, loss), PATH_LIMIT + 1))
    exp.enumerated_all = len(paths) <= PATH_LIMIT
    seen: dict[str, CutPoint] = {}
    for p in paths[:PATH_LIMIT]:
        cut = _first_cut(G, tuple(p), report, shields, skip)
        exp.paths.append(PathInfo(tuple(p), cut))
        if cut is not None and cut.op not in seen:
            seen[cut.op] = cut
    for b in v.blockers:  # the report's blockers come first, in its order
        if b.op not in seen:
            seen[b.op] = CutPoint(b.op, b.type, b.location, b.reason, b.kind, b.fix)
    order = [b.op for b in v.blockers]
    exp.cuts = sorted(seen.values(), key=lambda c: (order.index(c.op) if c.op in order else len(order), c.op))
    return exp


# -- rendering -----------------------------------------------------------------
def chain_text(flow: Any, path: tuple[str, ...], cut: CutPoint | None, loss: str) -> str:
    """A compact op chain: ``w2 → MatMul:12 → StopGradient:14 ✗ → Mean:16 (loss)``.

    Trivial ops (Identity, ReadVariableOp) are dropped; a line number is shown
    when it changes; a long chain keeps its ends and the cut.
    """
    items = []
    last_line = None
    for i, node in enumerate(path):
        data = flow.G.nodes[node]
        if i == 0:
            items.append((node, data.get("variable") or data.get("name", node)))
            continue
        is_cut = cut is not None and node == cut.op
        if data["type"] in TRIVIAL and not is_cut and node != loss:
            continue
        loc = flow.location(node)
        label = data["type"]
        if loc is not None and loc.line != last_line:
            label += f":{loc.line}"
            last_line = loc.line
        if is_cut:
            label += " ✗"
        if node == loss:
            label += " (loss)"
        items.append((node, label))
    if len(items) > CHAIN_MAX:
        keep = {0, 1, 2, len(items) - 2, len(items) - 1}
        if cut is not None:
            keep |= {i for i, (n, _) in enumerate(items) if n == cut.op}
        out, skipped = [], 0
        for i, (_, label) in enumerate(items):
            if i in keep:
                if skipped:
                    out.append(f"… {skipped} ops …")
                    skipped = 0
                out.append(label)
            else:
                skipped += 1
        return " → ".join(out)
    return " → ".join(label for _, label in items)


def explanation_renderable(exp: Explanation) -> Any:
    from rich.console import Group
    from rich.text import Text

    from .render.theme import style_of

    v = exp.variable
    st = style_of(v.status)
    parts: list[Any] = []
    head = Text()
    head.append(v.name, style="bold")
    head.append("  ")
    head.append(f"{st.symbol} {st.label}", style=f"bold {st.colour}")
    shape = shape_text(v.shape)
    norm = "-" if v.grad_norm is None else f"{v.grad_norm:.3g}"
    head.append(f"  {shape} {v.dtype}  {'trainable' if v.trainable else 'not trainable'}  grad norm {norm}",
                style="dim")
    parts.append(head)
    if v.why:
        parts.append(Text(f"why: {v.why}"))
    if v.expected is not None:
        word = "expected" if v.expected else "suspicious"
        parts.append(Text(f"{word}: {v.expected_reason}", style="green" if v.expected else "yellow"))
    p = v.paths
    count = f"paths to the loss: {p.total}{'+' if getattr(p, 'capped', False) else ''}"
    if p.blocked:
        count += f", {p.blocked} cut"
    parts.append(Text(count))
    if exp.paths:
        parts.extend(_path_lines(exp))
    elif v.status.value == "disconnected":
        parts.append(Text("  no forward path: the loss never reads it (an unused head or layer?)"))
    if exp.cuts:
        parts.append(Text("cut points:", style="bold"))
        for c in exp.cuts:
            line = Text("  ")
            line.append(f"{c.type} at {c.where()}", style="bold red")
            if c.reason:
                line.append(f": {c.reason}")
            parts.append(line)
            if c.fix:
                parts.append(Text(f"    fix: {c.fix}"))
    return Group(*parts)


def _path_lines(exp: Explanation) -> list[Any]:
    """The paths as a two-column grid, so that a long chain wraps under itself."""
    from rich.table import Table
    from rich.text import Text

    flow, loss = exp.flow, exp.loss
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    if len(exp.paths) <= SHOW_ALL_PATHS:
        for path in exp.paths:
            mark = Text(f"  {'✗' if path.cut else '✓'}", style="red" if path.cut else "green")
            grid.add_row(mark, Text(chain_text(flow, path.nodes, path.cut, loss)))  # data, never markup
        return [grid]
    groups: dict[str | None, list[PathInfo]] = {}
    for path in exp.paths:
        groups.setdefault(path.cut.op if path.cut else None, []).append(path)
    more = "" if exp.enumerated_all else " (first " + str(len(exp.paths)) + " enumerated)"
    header = Text(f"  {len(exp.paths)} paths{more}, grouped by where they die:", style="dim")
    for key, members in groups.items():
        first = members[0]
        if key is None:
            head = Text(f"  ✓ {len(members)} open, e.g.", style="green")
        else:
            head = Text(f"  ✗ {len(members)} cut at {first.cut.type} ({first.cut.where()}), e.g.", style="red")
        grid.add_row(head, Text(chain_text(flow, first.nodes, first.cut, loss)))  # data, never markup
    return [header, grid]


def explain_renderable(report: "Report", patterns: str | list[str]) -> Any:
    """The ``explain`` view of every variable ``patterns`` selects, as one rich renderable."""
    from rich.console import Group
    from rich.text import Text

    parts: list[Any] = []
    for i, v in enumerate(select(report.variables, patterns)):
        if i:
            parts.append(Text())
        parts.append(explanation_renderable(explain(report, v.name)))
    return Group(*parts)


def explain_text(report: "Report", patterns: str | list[str], *, width: int = 100) -> str:
    """The ``explain`` view as plain text."""
    from rich.console import Console

    console = Console(width=width, color_system=None, force_terminal=False)
    with console.capture() as capture:
        console.print(explain_renderable(report, patterns))
    return capture.get()
