"""The colour-coded gradient-flow graph, as a ``graphviz.Digraph``.

Built from a finished :class:`~gradflow.report.Report` and its analysis graph
(``report.flow.G``); never imports TensorFlow and never re-runs the analysis.
:func:`to_dot` returns the ``graphviz.Digraph``; :mod:`gradflow.render.files`
runs Graphviz's ``dot`` on it and writes files.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

import graphviz

from ..cuts import is_stop_gradient_op
from ..analysis.reach import backward_search, reached
from ..errors import ArgumentError, RenderError, UsageError
from ..report import Status
from .overview import is_library_cut, overview
from .theme import (
    CLUSTER_COLOUR,
    CLUSTER_TEXT_COLOUR,
    CUT_COLOUR,
    FAINT_COLOUR,
    FAINT_TEXT_COLOUR,
    FORWARD_COLOUR,
    GRAPH_FONT,
    STATUS_FONT_COLOURS,
    STATUS_ORDER,
    STATUS_TINTS,
    TEXT_COLOUR,
    node_style,
    style_of,
    variable_style,
)

if TYPE_CHECKING:
    from ..report import Report, VariableReport

__all__ = ["to_dot", "build_drawing", "Drawing", "resolve_focus", "VIEWS", "MAX_NODES", "TRIVIAL_TYPES"]

VIEWS = ("flow", "full")
MAX_NODES = 300
# Ops that only pass a value on: contracted away in the flow view.
TRIVIAL_TYPES = frozenset({"Identity", "IdentityN", "ReadVariableOp", "Snapshot", "Enter", "Exit",
                           "NextIteration"})
# More child scopes than this under one scope: group them by shared name prefix
# ("conv4_block7_0_bn", "conv4_block7_1_conv"... -> "conv4_block7_*").
FANOUT = 30

# Edge classes, strongest first.
FLOW, CUT, BEHIND, FORWARD, FAINT = "flow", "cut", "behind", "forward", "faint"
_EDGE_ORDER = {FLOW: 0, CUT: 1, BEHIND: 2, FORWARD: 3, FAINT: 4}
_EDGE_WORDS = {
    FLOW: "gradient flows back along this tensor",
    CUT: "the gradient is cut here",
    BEHIND: "behind a cut: no gradient reaches this tensor",
    FORWARD: "forward value only: its gradient never reaches a variable",
    FAINT: "not on a path from a variable to the loss",
}
# Statuses that carry a gradient, best first: the colour of a strong path.
_PATH_RANK = (Status.FLOWS, Status.NONFINITE, Status.ZERO)

_SAFE_ID = re.compile(r"[A-Za-z0-9_.\-/>\[\]*+]+\Z")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# -- escaping ----------------------------------------------------------------
def html_text(text: Any) -> str:
    """``text`` as the content of a Graphviz HTML-like label: data, never markup."""
    text = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", str(text)).replace("\n", " ").replace("\t", " ")
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def esc_string(lines: Iterable[Any]) -> str:
    """Lines of user text as one Graphviz escString (``tooltip``): backslashes are literal."""
    parts = [_CONTROL.sub("\N{REPLACEMENT CHARACTER}", str(line)).replace("\\", "\\\\").replace("\n", " ")
             for line in lines]
    return graphviz.nohtml("\\n".join(parts))


def dot_id(name: str) -> str:
    """A DOT node id for an analysis-graph id: the id itself when it is plain, else a stable hash."""
    if _SAFE_ID.match(name) and ":" not in name:
        return graphviz.nohtml(name)
    return graphviz.nohtml("_h/" + _digest(name))


def svg_id(kind: str, name: str) -> str:
    """A stable SVG element id (``gf_n_...``) for JavaScript and CSS hooks."""
    return f"gf_{kind}_{_digest(name)}"


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _label(*rows: str) -> str:
    """An HTML-like label from rows that are already escaped."""
    return "<" + "<BR/>".join(rows) + ">"


def _small(text: str, colour: str | None = None, size: int = 9) -> str:
    colour_attr = f' COLOR="{colour}"' if colour else ""
    return f'<FONT POINT-SIZE="{size}"{colour_attr}>{text}</FONT>'


def _shape_text(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, str):
        return shape
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


# -- the drawing -------------------------------------------------------------
@dataclass
class Drawing:
    """A built graph plus what the writers need to know about it.

    Attributes:
        digraph: the ``graphviz.Digraph``.
        note: the auto-collapse note, or None when nothing was collapsed automatically.
        depth: the collapse depth used (None: fully expanded).
        nodes: how many graph nodes are drawn (the legend aside).
        total: how many nodes there would be fully expanded.
        titles: SVG element id -> tooltip text, for rewriting the SVG ``<title>`` elements.
        variable_ids: variable name -> SVG element id of the node that shows it.
    """

    digraph: graphviz.Digraph
    note: str | None
    depth: int | None
    nodes: int
    total: int
    titles: dict[str, str] = field(default_factory=dict)
    variable_ids: dict[str, str] = field(default_factory=dict)


@dataclass
class _Edge:
    u: str
    v: str
    cls: str
    via: str
    src_slot: str
    dst_slot: str
    tensor: str
    dtype: str
    shape: str
    reason: str = ""


def to_dot(report: "Report", *, view: str = "flow", collapse: int | None = None, focus: str | None = None,
           max_nodes: int = MAX_NODES) -> graphviz.Digraph:
    """The gradient-flow graph of ``report`` as a ``graphviz.Digraph``.

    The colour code (also drawn as a legend on every picture):

    - **Variables** are rounded boxes filled by status: *flows* green, *zero*
      amber, *nonfinite* magenta, *blocked* red, *disconnected* grey. A
      variable that is not trainable is pale, outlined dashed.
    - **The loss** is the dark double circle every strong path ends in.
    - **Ops** on a path along which the gradient flows from a variable to the
      loss are drawn strong, outlined in the gradient's colour, and so are the
      **edges** of those paths (thick). Ops that only compute forward values
      are faint grey.
    - **Cuts**: a ``tf.stop_gradient`` is a red octagon; any other op where the
      gradient dies (ArgMax, Round, an integer Cast, ``tf.numpy_function``, a
      ``tf.custom_gradient`` returning None...) is a red-outlined box that
      names its reason. The edges behind a cut are red and dashed.
    - **Name scopes** (Keras layers, ``tf.name_scope``) are clusters, and
      function bodies (``tf.cond`` branches, ``tf.while_loop`` bodies) dashed
      clusters. A **collapsed scope** is a 3-D box coloured by the worst status
      of the trainable variables inside and labelled with its counts.
    - Every node's tooltip (the SVG ``<title>``) gives its op type, name,
      dtype, shape, source ``file:line`` and status.

    Args:
        report: the report to draw; its analysis graph is read, never changed.
        view: ``"flow"`` (default) draws only what lies on forward paths from
            the variables to the loss, with chains of trivial ops (Identity,
            ReadVariableOp...) contracted; ``"full"`` draws every op.
        collapse: draw name scopes deeper than this as single nodes. Defaults
            to None: the deepest depth that keeps about ``max_nodes`` nodes
            (the picture then says so).
        focus: a variable name or scope: draw only the paths from those
            variables to the loss, fully expanded (unless ``collapse`` is given).
        max_nodes: the automatic collapse's budget. Defaults to 300.

    Returns:
        The graph; ``.source`` is its DOT text, ``.pipe(format="svg")`` renders it.

    Raises:
        UsageError: ``focus`` names no variable or scope (the message lists close names).
        ArgumentError: an unknown ``view`` or a negative ``collapse`` (also a ValueError).

    Example:
        ```python
        report = gradflow.inspect_file("examples/stop_gradient.py")
        dot = gradflow.render.dot.to_dot(report)
        print(dot.source)
        ```
    """
    return build_drawing(report, view=view, collapse=collapse, focus=focus, max_nodes=max_nodes).digraph


def resolve_focus(report: "Report", name: str) -> list["VariableReport"]:
    """The variables ``--focus NAME`` means: one variable, or every variable in a scope.

    A scope matches by variable-name prefix (``dense_1`` for ``dense_1/kernel``)
    or by the name scope of the variable's op in the traced graph.

    Raises:
        UsageError: nothing matches; the message lists close names.
    """
    variables = list(report.variables)
    exact = [v for v in variables if v.name == name]
    if exact:
        return exact
    stem = name.rstrip("/")
    by_name = [v for v in variables if v.name.startswith(stem + "/")]
    if by_name:
        return by_name
    G = report.flow.G if report.flow is not None else None
    by_scope = []
    if G is not None and stem:
        for v in variables:
            node = _variable_node(report, v)
            scope = G.nodes[node].get("scope", "") if node is not None else ""
            if scope == stem or scope.startswith(stem + "/") or f"/{stem}/" in f"/{scope}/":
                by_scope.append(v)
    if by_scope:
        return by_scope
    candidates = set()
    for v in variables:
        candidates.add(v.name)
        parts = v.name.split("/")
        candidates.update("/".join(parts[:i]) for i in range(1, len(parts)))
    close = difflib.get_close_matches(name, sorted(candidates), n=6, cutoff=0.5)
    hint = f" Close names: {', '.join(close)}." if close else ""
    some = ", ".join(v.name for v in variables[:8]) + (", ..." if len(variables) > 8 else "")
    raise UsageError(
        f"--focus {name}: no variable or scope of that name.{hint} "
        f"Variables: {some or '(none)'}."
    )


def _variable_node(report: "Report", v: "VariableReport") -> str | None:
    node = v.node
    if node is None and report.flow is not None:
        node = report.flow.variables.get(v.name)
    if node is not None and report.flow is not None and node in report.flow.G:
        return node
    return None


# -- reachability (analysis/reach.py's searches) -----------------------------
def _is_open(d: dict) -> bool:
    return bool(d.get("open"))


def _path_ranks(G: Any, sources_by_rank: list[list[str]], allowed: set) -> dict[str, int]:
    """For each node in ``allowed``: the best-ranked variable whose gradient flows through it."""
    rank: dict[str, int] = {}
    for r, sources in enumerate(sources_by_rank):
        for n in reached(G, sources, edge_ok=_is_open, node_ok=allowed.__contains__):
            rank.setdefault(n, r)
    return rank


# -- building ----------------------------------------------------------------
class _Builder:
    def __init__(self, report: "Report", view: str, collapse: int | None, focus: str | None,
                 max_nodes: int) -> None:
        if view not in VIEWS:
            raise ArgumentError(f"view must be one of {', '.join(VIEWS)}, not {view!r}")
        if collapse is not None and (not isinstance(collapse, int) or isinstance(collapse, bool) or collapse < 0):
            raise ArgumentError(f"collapse must be a depth >= 0 (a whole number), not {collapse!r}")
        if report.flow is None:
            raise RenderError("this report carries no analysis graph to draw; "
                              "create it with gradflow.inspect or gradflow.inspect_file")
        self.report = report
        self.view = view
        self.collapse = collapse
        self.focus = focus
        self.max_nodes = max_nodes
        self.flow = report.flow
        self.G = report.flow.G
        self.loss = report.flow.loss
        self.by_node: dict[str, list[VariableReport]] = {}
        self.extra_vars: list[VariableReport] = []  # variables with no node in the graph
        for v in report.variables:
            node = _variable_node(report, v)
            if node is None:
                self.extra_vars.append(v)
            else:
                self.by_node.setdefault(node, []).append(v)
        # Cuts that shield a variable entirely (not the partial cuts of a variable that still learns).
        self.blocker_ops = {b.op for v in report.variables if v.status is Status.BLOCKED for b in v.blockers}
        # Cuts that stop a trainable variable which is not meant to stop: never drawn quietly.
        self.problem_ops = {b.op for v in report.variables
                            if v.trainable and v.status is not Status.FLOWS and v.expected is not True
                            for b in v.blockers if not is_library_cut(b.op, b.origin)}
        self.layer_names = {part for v in report.variables if v.layer for part in v.layer.split("/")}
        self.origins = {sg.op: sg.origin for sg in report.stop_gradients}
        self.origins.update({b.op: b.origin for v in report.variables for b in v.blockers if b.origin})

    # -- classification ------------------------------------------------------
    def classify(self) -> None:
        G = self.G
        if self.focus is not None:
            chosen = resolve_focus(self.report, self.focus)
            names = {v.name for v in chosen}
            self.extra_vars = [v for v in self.extra_vars if v.name in names]
            self.by_node = {n: [v for v in vs if v.name in names] for n, vs in self.by_node.items()}
            self.by_node = {n: vs for n, vs in self.by_node.items() if vs}
        sources = list(self.by_node)
        self.D = reached(G, sources)
        self.A = backward_search(G, self.loss) | {self.loss}
        self.R = backward_search(G, self.loss, edge_ok=_is_open) | {self.loss}
        self.F = reached(G, sources, edge_ok=_is_open)
        self.onpath = self.D & self.A
        self.D_train = reached(G, [n for n, vs in self.by_node.items() if any(v.trainable for v in vs)])
        by_rank: list[list[str]] = [[] for _ in _PATH_RANK]
        for node, vs in self.by_node.items():
            best = min((_PATH_RANK.index(v.status) for v in vs if v.status in _PATH_RANK), default=None)
            if best is not None:
                by_rank[best].append(node)
        self.rank = _path_ranks(G, by_rank, self.F & self.R)

    def edge_class(self, u: str, v: str, d: dict) -> str:
        if d.get("open") and u in self.F and v in self.R and u in self.rank:
            return FLOW
        if u in self.D and v in self.A:
            if d.get("cut") is not None:
                return CUT
            if v not in self.R and d.get("backprop", True):
                return BEHIND  # integer and bool tensors carry no gradient anyway: forward values
            return FORWARD
        return FAINT

    # -- the node set and its edges -------------------------------------------
    def select(self) -> None:
        G = self.G
        if self.view == "full" and self.focus is None:
            keep = set(G)
        else:
            # Variables off every path still show (isolated): that is their story.
            keep = set(self.onpath) | {self.loss} | set(self.by_node)
        self.order = [n for n in G if n in keep]
        self.keep = keep
        edges: list[_Edge] = []
        for u in self.order:
            for v, keyed in G.succ[u].items():
                if v not in keep:
                    continue
                for key, d in keyed.items():
                    src_slot, _, dst_slot = str(key).partition(":")
                    cut = d.get("cut")
                    edges.append(_Edge(
                        u, v, self.edge_class(u, v, d), d.get("via", "data"), src_slot, dst_slot,
                        str(d.get("tensor", "")), str(d.get("dtype", "")), str(d.get("shape", "")),
                        cut.reason if cut is not None else "",
                    ))
        self.edges = edges
        self.cut_nodes = {e.v for e in edges if e.cls == CUT}
        self.cut_from: dict[str, set] = {}
        for e in edges:
            if e.cls == CUT:
                self.cut_from.setdefault(e.v, set()).add(e.u)

    def layer_label(self, component: str, depth: int) -> str:
        """A scope's label, named as the table names its layer: ``bn1`` for the traced ``bn1_1``."""
        label = _component_label(component)
        if label in self.layer_names:
            return label
        m = re.match(r"(.+)_\d+\Z", label)
        if m and (m.group(1) in self.layer_names or (depth == 0 and self.report.kind == "keras")):
            return m.group(1)
        return label

    def quiet_cut(self, n: str) -> bool:
        """A cut by design: library internals (BatchNorm moments, Dropout's RNG) or one on the
        paths of non-trainable variables only. Drawn grey, never red."""
        if n in self.problem_ops:
            return False
        if n not in self.D_train or is_library_cut(n, self.origins.get(n)):
            return True
        # Cut only on inputs that no trainable variable reaches (Dropout's mask from its seed state).
        return all(u not in self.D_train for u in self.cut_from.get(n, ()))

    def node_kind(self, n: str) -> str:
        data = self.G.nodes[n]
        if n == self.loss:
            return "loss"
        if n in self.by_node:
            return "variable"
        if n in self.cut_nodes:
            if self.quiet_cut(n):
                return "quiet_cut"
            return "stop_gradient" if is_stop_gradient_op(data.get("type")) else "cut"
        if data.get("role") == "input":
            return "input"
        if n in self.rank and n in self.R:
            return "grad"
        if n in self.onpath:
            return "forward"
        return "faint"

    def contract(self) -> None:
        """Contract trivial ops (flow view): u -> Identity -> v becomes u -> v."""
        if self.view != "flow":
            return
        G = self.G
        out: dict[str, list[int]] = {n: [] for n in self.order}
        inn: dict[str, list[int]] = {n: [] for n in self.order}
        edges: dict[int, _Edge] = {}
        for i, e in enumerate(self.edges):
            edges[i] = e
            out[e.u].append(i)
            inn[e.v].append(i)
        next_id = len(self.edges)
        removed = set()
        for n in self.order:
            data = G.nodes[n]
            role = data.get("role")
            if n == self.loss or n in self.by_node or n in self.cut_nodes or role in ("variable", "loss", "input"):
                continue
            if not (data.get("type") in TRIVIAL_TYPES or role in ("arg", "call")):
                continue
            ins = [i for i in inn[n] if i in edges]
            outs = [i for i in out[n] if i in edges]
            if any(edges[i].via == "custom_forward" for i in ins + outs):
                continue
            by_slot = role == "call" or data.get("type") == "IdentityN"
            if not by_slot and len(ins) > 1 and len(outs) > 1:
                continue
            new = []
            for i in ins:
                a = edges[i]
                for j in outs:
                    b = edges[j]
                    if by_slot and a.dst_slot != b.src_slot:
                        continue
                    if a.u == b.v:
                        continue
                    new.append(_Edge(a.u, b.v, _merge_class(a.cls, b.cls), _merge_via(a.via, b.via),
                                     a.src_slot, b.dst_slot, b.tensor, b.dtype, b.shape, a.reason or b.reason))
            if by_slot and not new and ins and outs:
                continue  # slots that do not line up: keep the op rather than lose a path
            for i in ins + outs:
                del edges[i]
            for e in new:
                edges[next_id] = e
                out[e.u].append(next_id)
                inn[e.v].append(next_id)
                next_id += 1
            removed.add(n)
        self.order = [n for n in self.order if n not in removed]
        self.keep = self.keep - removed
        self.edges = [edges[i] for i in sorted(edges)]

    # -- scopes --------------------------------------------------------------
    def scope_paths(self) -> None:
        """Cluster path per drawn node: its name scope, with op-named scopes dropped."""
        G = self.G
        raw: dict[str, tuple[str, ...]] = {}
        memo: dict[str, str] = {}
        for n in self.order:
            if n == self.loss:
                raw[n] = ()
                continue
            s = G.nodes[n].get("scope", "") or ""
            start = s
            if start in memo:
                s = memo[start]
            else:
                # "matmul/ReadVariableOp" is the scope TF opens for an op's helpers,
                # not a name scope of the user's: drop components that name an op.
                while s and s in G:
                    s = s.rpartition("/")[0]
                memo[start] = s
            raw[n] = _drop_echoes(tuple(p for p in s.split("/") if p)) if s else ()
        # A scope that holds a variable's read and no drawn op of its own
        # ("dense/Cast/ReadVariableOp") is no scope worth a cluster: the
        # variable moves up to the nearest scope that draws an op.
        with_ops = set()
        for n, p in raw.items():
            if n not in self.by_node:
                with_ops.update(p[:i] for i in range(1, len(p) + 1))
        for n in self.by_node:
            p = raw.get(n)
            while p and p not in with_ops:
                p = p[:-1]
            if p is not None:
                raw[n] = p
        self.paths = _group_paths(raw)

    # -- collapsing ----------------------------------------------------------
    def choose_depth(self) -> None:
        n_total = len(self.order) + len(self.extra_vars)
        self.total = n_total
        self.note = None
        self.open_scopes: set = set()
        if self.collapse is not None:
            self.depth = self.collapse
            return
        self.depth = None
        # A focus keeps the scopes of its own variables open; everything off them may collapse.
        self.open_scopes = set()
        if self.focus is not None:
            for node in self.by_node:
                p = self.paths.get(node, ())
                self.open_scopes.update(p[:i] for i in range(1, len(p) + 1))
        if n_total <= self.max_nodes:
            return
        max_depth = max((len(p) for p in self.paths.values()), default=0)
        best = None
        for depth in range(max_depth - 1, -1, -1):
            count = _count_at(self.paths, depth, self.open_scopes) + len(self.extra_vars)
            best = (depth, count)
            if count <= self.max_nodes:
                break
        if best is None:
            return
        self.depth = best[0]
        self.note = (f"{n_total} nodes collapsed to depth {best[0]} ({best[1]} drawn); "
                     f"use --collapse/--focus to expand")

    def group_of(self, n: str) -> tuple[str, ...] | None:
        if self.depth is None or n == self.loss:
            return None
        p = self.paths[n]
        if len(p) > self.depth and p[: self.depth + 1] not in self.open_scopes:
            return p[: self.depth + 1]
        return None

    # -- emitting ------------------------------------------------------------
    def build(self) -> Drawing:
        self.classify()
        self.select()
        self.contract()
        self.scope_paths()
        self.choose_depth()
        dot = graphviz.Digraph(
            name="gradflow",
            graph_attr={
                "rankdir": "TB", "newrank": "true", "nodesep": "0.25", "ranksep": "0.45",
                "fontname": GRAPH_FONT, "fontsize": "12", "labelloc": "t", "labeljust": "l",
                "bgcolor": "white", "outputorder": "edgesfirst", "pad": "0.2",
            },
            node_attr={"fontname": GRAPH_FONT, "fontsize": "11", "margin": "0.08,0.04",
                       "height": "0.3", "penwidth": "1.2"},
            edge_attr={"fontname": GRAPH_FONT, "fontsize": "9", "arrowsize": "0.7"},
        )
        self.titles: dict[str, str] = {}
        self.variable_ids: dict[str, str] = {}
        # Which node (or collapsed group) stands for each drawn node.
        groups: "OrderedDict[tuple[str, ...], list[str]]" = OrderedDict()
        stand_in: dict[str, str] = {}
        placed: list[tuple[tuple[str, ...], str, dict]] = []  # (cluster path, dot id, attrs)
        self.hidden = 0
        for n in self.order:
            g = self.group_of(n)
            if g is None and self._hide(n):
                continue
            if g is not None:
                if g not in groups:
                    groups[g] = []
                    placed.append((g[:-1], "group", {"group": g}))
                groups[g].append(n)
                stand_in[n] = _group_id(g)
            else:
                stand_in[n] = dot_id(n)
                placed.append((self.paths[n], "node", {"node": n}))
        clusters = _ClusterTree()
        for path, what, info in placed:
            if what == "node":
                attrs = self.node_attrs(info["node"])
                clusters.add(path, (stand_in[info["node"]], attrs))
            else:
                g = info["group"]
                attrs = self.group_attrs(g, groups[g])
                clusters.add(path, (_group_id(g), attrs))
        for v in self.extra_vars:
            if self.view == "flow" and not v.trainable and self.focus is None:
                self.hidden += 1
                continue
            nid = dot_id("_var/" + v.name)
            clusters.add((), (nid, self.variable_attrs([v], nid)))
        dot.attr(label=self.title_label())
        clusters.emit(dot, self)
        self.emit_edges(dot, stand_in)
        self.emit_legend(dot)
        drawn = len(placed) + len(self.extra_vars)
        return Drawing(digraph=dot, note=self.note, depth=self.depth, nodes=drawn, total=self.total,
                       titles=self.titles, variable_ids=self.variable_ids)

    def _hide(self, n: str) -> bool:
        """Flow view: a variable that is not trainable and lies on no path is left out.

        (BatchNorm's moving statistics, say: drawn alone they would only stretch
        their layer's cluster. Collapsed scopes still count them.)
        """
        if self.view != "flow" or self.focus is not None or n not in self.by_node or n in self.onpath:
            return False
        if any(v.trainable for v in self.by_node[n]):
            return False
        self.hidden += len(self.by_node[n])
        return True

    def title_label(self) -> str:
        r = self.report
        where = f" in {html_text(r.source)}" if r.source else ""
        rows = [f"<B>gradflow</B>  ·  {html_text(r.target)}{where}", html_text(overview(r).headline)]
        view = [self.view + " view"]
        if self.focus is not None:
            view.append(f"focus on {self.focus}")
        if self.note is not None:
            view.append(self.note)
        elif self.depth is not None:
            view.append(f"scopes collapsed below depth {self.depth}")
        if self.hidden:
            view.append(f"{self.hidden} non-trainable variable{'s' if self.hidden != 1 else ''} "
                        "off every path not drawn (--view full draws them)")
        rows.append(_small(html_text(", ".join(view)), FAINT_TEXT_COLOUR, 10))
        return "<" + "".join(row + '<BR ALIGN="LEFT"/>' for row in rows) + ">"

    # -- nodes ----------------------------------------------------------------
    def _title(self, key: str, lines: list[str], attrs: dict, kind: str) -> None:
        sid = svg_id(kind, key)
        attrs["id"] = sid
        attrs["tooltip"] = esc_string(lines)
        self.titles[sid] = "\n".join(lines)

    def node_attrs(self, n: str) -> dict:
        kind = self.node_kind(n)
        if kind == "variable":
            return self.variable_attrs(self.by_node[n], n)
        data = self.G.nodes[n]
        op_type = str(data.get("type", "?"))
        name = str(data.get("name", n))
        outputs = data.get("outputs") or ()
        dtype, shape = (outputs[0] if outputs else ("", ""))
        loc = self.flow.location(n)
        attrs: dict[str, str] = {}
        status_line = {
            "loss": "the loss",
            "grad": "on a path where the gradient flows from a variable to the loss",
            "forward": "forward values only: no gradient reaches a variable through it",
            "faint": "not on a path from a variable to the loss",
            "input": "an input",
            "stop_gradient": "cut: tf.stop_gradient",
            "cut": "cut",
            "quiet_cut": "cut by design (library internals, or only non-trainable variables behind it)",
        }[kind]
        reason = ""
        if kind in ("cut", "stop_gradient"):
            cut = data.get("cut")
            reason = cut.reason if cut is not None else "the gradient dies here"
            status_line = f"cut: {reason}"
            if n in self.blocker_ops:
                status_line += " (blocks every path of some variable)"
        lines = [f"{op_type} {n}", f"dtype {dtype or '-'}  shape {shape or '-'}",
                 f"source {loc}" if loc else "source: (not recorded)", f"status: {status_line}"]
        self._title("n/" + n, lines, attrs, "n")
        short = name.rpartition("/")[2]
        show_name = short.replace("_", "").lower() != op_type.lower()
        type_row = f"<B>{html_text(op_type)}</B>"
        if kind == "loss":
            attrs.update(node_style("loss"), margin="0.02")
            attrs["label"] = _label("<B>loss</B>")
        elif kind == "stop_gradient":
            attrs.update(node_style("stop_gradient"))
            rows = [type_row]
            if loc is not None:
                rows.append(_small(html_text(loc)))
            attrs["label"] = _label(*rows)
        elif kind == "cut":
            attrs.update(node_style("cut"))
            rows = [f"✗ {type_row}", _small(html_text(reason), CUT_COLOUR)]
            if loc is not None:
                rows.append(_small(html_text(loc), CUT_COLOUR))
            attrs["label"] = _label(*rows)
        elif kind == "grad":
            colour = style_of(_PATH_RANK[self.rank[n]]).colour
            attrs.update(node_style("grad", colour))
            rows = [type_row] + ([_small(html_text(short), FAINT_TEXT_COLOUR)] if show_name else [])
            attrs["label"] = _label(*rows)
        elif kind == "quiet_cut":
            attrs.update(node_style("quiet_cut"))
            attrs["label"] = _label(html_text(op_type), _small(html_text("by design"), FAINT_COLOUR, 8))
        elif kind == "input":
            attrs.update(node_style("input"))
            attrs["label"] = _label(html_text(name), _small(html_text(f"{dtype} {shape}")))
        else:
            attrs.update(node_style(kind))
            rows = [html_text(op_type)] + ([_small(html_text(short))] if show_name else [])
            attrs["label"] = _label(*rows)
        return attrs

    def variable_attrs(self, vs: list["VariableReport"], key: str) -> dict:
        attrs: dict[str, str] = {}
        v = vs[0]
        status = v.status
        st = style_of(status)
        trainable = any(x.trainable for x in vs)
        lines = []
        for x in vs:
            norm = "" if x.grad_norm is None else f"  grad norm {x.grad_norm:.3g}"
            lines += [f"variable {x.name}",
                      f"dtype {x.dtype}  shape {_shape_text(x.shape)}  {'trainable' if x.trainable else 'not trainable'}",
                      f"status: {x.status.value}{norm}"]
            if x.why:
                lines.append(f"why: {x.why}")
            if x.blockers:
                b = x.blockers[0]
                lines.append(f"cut at {b.where()} ({b.type})")
        if key in self.G:
            loc = self.flow.location(key)
            lines.append(f"op {key}" + (f"  source {loc}" if loc else ""))
        self._title("v/" + key, lines, attrs, "v")
        for x in vs:
            self.variable_ids[x.name] = attrs["id"]
        names = " = ".join(html_text(x.name) for x in vs)
        if not trainable and status is not Status.FLOWS:  # not learning by design: quiet grey
            st = style_of(Status.DISCONNECTED)
        attrs.update(variable_style(status, trainable))
        sub = None if trainable else TEXT_COLOUR
        detail = html_text(f"{v.dtype} {_shape_text(v.shape)}" + ("" if trainable else " · not trainable"))
        attrs["label"] = _label(f"<B>{names}</B>", _small(detail, sub),
                                _small(html_text(f"{st.symbol} {v.status.value}"), sub, 10))
        return attrs

    def group_attrs(self, g: tuple[str, ...], members: list[str]) -> dict:
        counts = {s: 0 for s in Status}
        counts_nt = {s: 0 for s in Status}
        ops = cuts = blocking = 0
        grad_rank = None
        forward = False
        for n in members:
            kind = self.node_kind(n)
            if kind == "variable":
                for v in self.by_node[n]:
                    (counts if v.trainable else counts_nt)[v.status] += 1
                    self.variable_ids[v.name] = svg_id("g", "/".join(g))
                continue
            ops += 1
            if kind in ("cut", "stop_gradient"):  # quiet cuts by design are not counted
                cuts += 1
                blocking += n in self.blocker_ops
            if n in self.rank and n in self.R:
                r = self.rank[n]
                grad_rank = r if grad_rank is None else min(grad_rank, r)
            forward = forward or n in self.onpath
        trained = [s for s in STATUS_ORDER if counts[s]]
        untrained = [s for s in STATUS_ORDER if counts_nt[s]]
        n_vars = sum(counts.values()) + sum(counts_nt.values())
        attrs: dict[str, str] = {"shape": "box3d", "style": "filled", "penwidth": "1.5"}
        if trained:
            worst = trained[0]
            attrs.update(fillcolor=style_of(worst).colour, color=style_of(worst).colour,
                         fontcolor=STATUS_FONT_COLOURS[worst])
            sub = None
        elif untrained:
            worst = untrained[0]
            attrs.update(fillcolor=STATUS_TINTS[worst], color=style_of(worst).colour, fontcolor=TEXT_COLOUR)
            sub = TEXT_COLOUR
        else:
            colour = (style_of(_PATH_RANK[grad_rank]).colour if grad_rank is not None
                      else FORWARD_COLOUR if forward else FAINT_COLOUR)
            attrs.update(fillcolor="white", color=colour, fontcolor=TEXT_COLOUR, penwidth="2")
            sub = FAINT_TEXT_COLOUR
        if blocking:
            attrs.update(color=CUT_COLOUR, penwidth="3")
        rows = [f"<B>{html_text(self.layer_label(g[-1], len(g) - 1))}</B>"]
        parts = [f"{ops} op{'s' if ops != 1 else ''}"]
        if n_vars:
            parts.append(f"{n_vars} variable{'s' if n_vars != 1 else ''}")
        rows.append(_small(html_text(" · ".join(parts)), sub))
        status_bits = [f"{counts[s]} {style_of(s).label}" for s in STATUS_ORDER if counts[s]]
        status_bits += [f"{counts_nt[s]} {style_of(s).label} (not trainable)" for s in STATUS_ORDER if counts_nt[s]]
        if status_bits:
            rows.append(_small(html_text(", ".join(status_bits)), sub))
        if cuts:
            cut_text = f"✗ {cuts} cut{'s' if cuts != 1 else ''}" + (f", {blocking} blocking" if blocking else "")
            rows.append(_small(html_text(cut_text), CUT_COLOUR if not trained else sub))
        attrs["label"] = _label(*rows)
        where = _display_path(g)
        if g[-1].endswith("+") and not where.endswith(g[-1].rstrip("+")):
            where += "/" + g[-1].rstrip("+")
        lines = [f"collapsed scope {where}", f"{ops} ops, {n_vars} variables"]
        if status_bits:
            lines.append("variables: " + ", ".join(status_bits))
        if cuts:
            lines.append(f"{cuts} cuts inside ({blocking} blocking a variable)")
        lines.append("status: worst status inside: " + (trained[0].value if trained else
                                                         untrained[0].value if untrained else "no variables"))
        lines.append("draw it expanded with --collapse DEPTH or --focus NAME")
        self._title("/".join(g), lines, attrs, "g")
        return attrs

    # -- edges ----------------------------------------------------------------
    def emit_edges(self, dot: graphviz.Digraph, stand_in: dict[str, str]) -> None:
        seen: dict[tuple[str, str, str], int] = OrderedDict()
        merged: list[tuple[str, str, _Edge, int]] = []
        for e in self.edges:
            u, v = stand_in.get(e.u), stand_in.get(e.v)
            if u is None or v is None or u == v:
                continue
            style_key = "loop" if e.via == "loop" else "pred" if e.via in ("pred", "shape") else ""
            key = (u, v, e.cls + style_key)
            if key in seen:
                merged[seen[key]] = (u, v, merged[seen[key]][2], merged[seen[key]][3] + 1)
                continue
            seen[key] = len(merged)
            merged.append((u, v, e, 1))
        # Collapsing can join edges of several classes between two groups: keep the strongest.
        if self.depth is not None:
            best: dict[tuple[str, str], int] = {}
            for u, v, e, _ in merged:
                best[(u, v)] = min(best.get((u, v), 9), _EDGE_ORDER[e.cls])
            merged = [m for m in merged if _EDGE_ORDER[m[2].cls] == best[(m[0], m[1])]]
        stage = self.stages([(u, v) for u, v, e, _ in merged if e.via != "loop"], set(stand_in.values()))
        for u, v, e, count in merged:
            attrs = self.edge_attrs(e, count)
            if stage.get(u, 0) != stage.get(v, 0):
                attrs["constraint"] = "false"  # a new column: the next stage starts at the top again
            key = f"{u}->{v}/{e.cls}/{e.via}"
            lines = [f"{e.tensor or 'tensor'}  {e.dtype} {e.shape}".strip(), _EDGE_WORDS[e.cls]]
            if e.reason:
                lines.append(f"cut: {e.reason}")
            if e.via not in ("data", ""):
                lines.append(f"via {e.via}")
            if count > 1:
                lines.append(f"{count} tensors")
            self._title(key, lines, attrs, "e")
            dot.edge(u, v, **attrs)

    def stages(self, edges: list[tuple[str, str]], nodes: set) -> dict[str, int]:
        """Wrap a long chain into side-by-side columns: node id -> stage.

        The layout's height is about 0.8 in per rank and its width about 1.4 in per
        node of the widest rank; when the picture would be more than four times as
        tall as wide, the ranks are cut into ``k`` stages (``k`` about
        ``sqrt(ratio / 2)``) and the edges between stages do not constrain the
        ranks, so that each stage starts again at the top, beside the last.
        """
        succ: dict[str, list[str]] = {n: [] for n in nodes}
        indeg: dict[str, int] = {n: 0 for n in nodes}
        for u, v in edges:
            if u in succ and v in indeg and u != v:
                succ[u].append(v)
                indeg[v] += 1
        rank = {n: 0 for n in nodes}
        ready = sorted(n for n, d in indeg.items() if d == 0)
        while ready:
            n = ready.pop()
            for m in succ[n]:
                rank[m] = max(rank[m], rank[n] + 1)
                indeg[m] -= 1
                if indeg[m] == 0:
                    ready.append(m)
        if not rank:
            return {}
        for n, d in rank.items():  # a source (a variable, an input) sits just above its first consumer
            if d == 0 and succ[n]:
                rank[n] = max(0, min(rank[m] for m in succ[n]) - 1)
        depth = max(rank.values()) + 1
        per_rank: dict[int, int] = {}
        for r in rank.values():
            per_rank[r] = per_rank.get(r, 0) + 1
        width = max(per_rank.values()) * 1.4 + 4.0  # the legend sits beside the graph
        ratio = depth * 0.8 / width
        if ratio <= 4:
            return {}
        k = min(12, int(math.ceil(math.sqrt(ratio / 2))))
        size = -(-depth // k)
        self.wrapped = k
        return {n: r // size for n, r in rank.items()}

    def edge_attrs(self, e: _Edge, count: int) -> dict:
        quiet = e.cls in (CUT, BEHIND) and (
            (e.cls == CUT and e.v in self.cut_nodes and self.quiet_cut(e.v))
            or (e.u in self.cut_nodes and self.quiet_cut(e.u)) or e.u not in self.D_train)
        if quiet:
            attrs = {"color": FAINT_COLOUR, "style": "dashed", "penwidth": "0.9"}
        elif e.cls == FLOW:
            colour = style_of(_PATH_RANK[self.rank.get(e.u, 0)]).colour
            attrs = {"color": colour, "penwidth": "2.6", "arrowsize": "0.8"}
        elif e.cls == CUT:
            attrs = {"color": CUT_COLOUR, "style": "dashed", "penwidth": "2.2"}
        elif e.cls == BEHIND:
            attrs = {"color": CUT_COLOUR, "style": "dashed", "penwidth": "1.6"}
        elif e.cls == FORWARD:
            attrs = {"color": FORWARD_COLOUR, "penwidth": "1.1"}
        else:
            attrs = {"color": FAINT_COLOUR, "penwidth": "0.8"}
        if e.via == "loop":
            attrs["constraint"] = "false"
            attrs["style"] = (attrs.get("style", "") + ",bold").strip(",")
        elif e.via in ("pred", "shape"):
            attrs["style"] = "dotted"
        return attrs

    # -- legend ---------------------------------------------------------------
    def emit_legend(self, dot: graphviz.Digraph) -> None:
        with dot.subgraph(name="cluster__legend") as c:
            c.attr(label=_label("<B>legend</B>"), style="rounded", color=CLUSTER_COLOUR,
                   fontcolor=CLUSTER_TEXT_COLOUR, fontsize="10", labeljust="l", margin="8")
            c.attr("node", fontsize="9", height="0.25", margin="0.06,0.02")
            c.attr("edge", arrowsize="0.6")
            rows: list[list[tuple[str, dict]]] = [[], [], [], []]
            for status in (Status.FLOWS, Status.ZERO, Status.NONFINITE, Status.BLOCKED, Status.DISCONNECTED):
                st = style_of(status)
                rows[0].append((f"_legend/{status.value}", {
                    **variable_style(status, True), "penwidth": "1.2",
                    "label": _label(html_text(f"{st.symbol} {st.label}")),
                    "tooltip": esc_string([f"variable: {st.label}: {st.meaning}"])}))
            rows[1] += [
                ("_legend/untrainable", {
                    **variable_style(Status.FLOWS, False),
                    "label": _label("not trainable"), "tooltip": esc_string(["a variable that is not trainable"])}),
                ("_legend/grad", {
                    **node_style("grad", style_of(Status.FLOWS).colour), "label": _label("op on a gradient path"),
                    "tooltip": esc_string(["an op the gradient flows through"])}),
                ("_legend/forward", {
                    **node_style("forward"), "fontsize": "9", "label": _label("forward value only"),
                    "tooltip": esc_string(["an op whose gradient never reaches a variable"])}),
                ("_legend/loss", {
                    **node_style("loss"), "label": _label("<B>loss</B>"), "margin": "0.01", "fontsize": "8",
                    "tooltip": esc_string(["the loss"])}),
            ]
            rows[2] += [
                ("_legend/stop_gradient", {
                    **node_style("stop_gradient"), "label": _label("<B>StopGradient</B>"),
                    "tooltip": esc_string(["tf.stop_gradient: the gradient stops here"])}),
                ("_legend/cut", {
                    **node_style("cut"), "label": _label("✗ <B>other cut</B>: reason"),
                    "tooltip": esc_string(["ArgMax, Round, an integer Cast, numpy_function, a custom "
                                           "gradient returning None..."])}),
                ("_legend/quiet_cut", {
                    **node_style("quiet_cut"), "label": _label("cut by design"),
                    "tooltip": esc_string(["library internals (BatchNorm moments, Dropout's RNG) or a cut only "
                                           "non-trainable variables reach: expected, never red"])}),
                ("_legend/group", {
                    "shape": "box3d", "style": "filled", "fillcolor": style_of(Status.FLOWS).colour,
                    "color": style_of(Status.FLOWS).colour, "fontcolor": "white",
                    "label": _label("collapsed scope"),
                    "tooltip": esc_string(["a collapsed name scope, coloured by the worst status inside"])}),
            ]
            # Edge samples: "• ──> words", drawn left to right within one rank.
            samples = [(FLOW, "gradient flows", {"color": style_of(Status.FLOWS).colour, "penwidth": "2.6"}),
                       (BEHIND, "behind a cut", {"color": CUT_COLOUR, "style": "dashed", "penwidth": "1.8"}),
                       (FORWARD, "forward only", {"color": FORWARD_COLOUR, "penwidth": "1.1"})]
            sample_edges = []
            for cls, text, attrs in samples:
                a, b = f"_legend/e_{cls}_a", f"_legend/e_{cls}_b"
                rows[3].append((a, {"shape": "point", "width": "0.06", "color": attrs["color"],
                                    "tooltip": esc_string([text])}))
                rows[3].append((b, {"shape": "plaintext", "label": _label(html_text(text)), "height": "0.2",
                                    "tooltip": esc_string([text])}))
                sample_edges.append((a, b, text, attrs))
            visible = {(a, b) for a, b, _, _ in sample_edges}
            for r, row in enumerate(rows):
                with c.subgraph(name=f"_legend_row{r}") as rank:
                    rank.attr(rank="same")
                    for nid, attrs in row:
                        attrs = dict(attrs)
                        attrs["id"] = svg_id("l", nid)
                        self.titles[attrs["id"]] = str(attrs["tooltip"]).replace("\\n", "\n")
                        rank.node(nid, **attrs)
                for (a, _), (b, _) in zip(row, row[1:]):
                    if (a, b) not in visible:
                        c.edge(a, b, style="invis")
            for a, b, text, attrs in sample_edges:
                eid = svg_id("l", a + "->" + b)
                self.titles[eid] = text
                c.edge(a, b, id=eid, tooltip=esc_string([text]), minlen="2", **attrs)
            for upper, lower in zip(rows, rows[1:]):
                c.edge(upper[0][0], lower[0][0], style="invis")


def _merge_class(a: str, b: str) -> str:
    if CUT in (a, b):
        return CUT
    if BEHIND in (a, b):
        return BEHIND
    if a == FLOW and b == FLOW:
        return FLOW
    if FAINT in (a, b):
        return FAINT
    return FORWARD


def _merge_via(a: str, b: str) -> str:
    for via in ("loop", "pred", "shape", "custom_forward"):
        if via in (a, b):
            return via
    return "data"


def _group_id(g: tuple[str, ...]) -> str:
    return dot_id("_scope/" + "/".join(g))


def _drop_echoes(path: tuple[str, ...]) -> tuple[str, ...]:
    """Drop the scope a function body repeats from its call: ``cond[then]/cond/...`` -> ``cond[then]/...``.

    Examples:
        >>> _drop_echoes(("cond[then]", "cond", "mul"))
        ('cond[then]', 'mul')
        >>> _drop_echoes(("model", "dense"))
        ('model', 'dense')
    """
    if not any(c.endswith("]") for c in path):
        return path
    out: list[str] = []
    for c in path:
        if out:
            m = re.match(r"(?:.*/)?([^/\[]+)\[[^\]]*\]\Z", out[-1])
            if m and m.group(1) == c:
                continue
        out.append(c)
    return tuple(out)


def _display_path(path: tuple[str, ...]) -> str:
    """A scope path as the user reads it: pass-through levels ("bn_1+") left out."""
    return "/".join(c for c in path if not c.endswith("+")) or (path[-1].rstrip("+") if path else "")


def _component_label(component: str) -> str:
    component = component.rstrip("+")
    m = re.match(r"(.*)\[([^\]]*)\]\Z", component)
    if m:
        return f"{m.group(1)} · {m.group(2)}"
    return component


def _count_at(paths: dict[str, tuple[str, ...]], depth: int, open_scopes: set = frozenset()) -> int:
    """How many nodes are drawn when scopes deeper than ``depth`` are collapsed (``open_scopes`` stay open)."""
    groups = set()
    count = 0
    for p in paths.values():
        if len(p) > depth and p[: depth + 1] not in open_scopes:
            groups.add(p[: depth + 1])
        else:
            count += 1
    return count + len(groups)


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[_\-]", name) if t] or [name]


def _group_names(names: list[str], level: int = 0) -> dict[str, tuple[str, ...]]:
    """Virtual scopes for too many sibling scopes: names -> the virtual components above them.

    Examples:
        >>> g = _group_names([f"conv{b}_block{i}_{j}" for b in (2, 3) for i in range(20) for j in range(2)])
        >>> g["conv2_block7_1"]
        ('conv2*', 'conv2_block7*')
        >>> _group_names(["a", "b"])["a"]
        ()
    """
    result: dict[str, tuple[str, ...]] = {n: () for n in names}
    if len(names) <= FANOUT:
        return result
    toks = {n: _tokens(n) for n in names}
    longest = max(len(t) for t in toks.values())
    for cut in range(level + 1, longest):
        groups: "OrderedDict[str, list[str]]" = OrderedDict()
        alone = 0
        for n in names:
            t = toks[n]
            if len(t) > cut:
                groups.setdefault("_".join(t[:cut]) + "*", []).append(n)
            else:
                alone += 1
        if len(groups) == 1 and not alone:
            continue  # everyone shares this prefix: look one token further
        count = len(groups) + alone
        if count >= len(names) or (count > FANOUT and count > len(names) // 2):
            break
        for key, members in groups.items():
            if len(members) < 2:
                continue
            inner = _group_names(members, cut)
            for m in members:
                result[m] = (key,) + inner[m]
        return result
    # No shared prefixes ("dense", "dense_1", ... "dense_39"): runs in natural order.
    ordered = sorted(names, key=_natural_key)
    chunks = min(FANOUT, -(-len(ordered) // 10))
    size = -(-len(ordered) // chunks)
    for i in range(0, len(ordered), size):
        run = ordered[i:i + size]
        key = f"{run[0]} … {run[-1]}*" if len(run) > 1 else None
        for m in run:
            result[m] = (key,) if key else ()
    return result


def _natural_key(name: str) -> tuple:
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", name))


def _group_paths(raw: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Insert virtual prefix groups wherever a scope has more than FANOUT child scopes."""
    children: "dict[tuple[str, ...], list[str]]" = {}
    for p in raw.values():
        for i in range(len(p)):
            kids = children.setdefault(p[:i], [])
            if not kids or kids[-1] != p[i]:
                kids.append(p[i])
    virtual: dict[tuple[str, ...], dict[str, tuple[str, ...]]] = {}
    for parent, kids in children.items():
        unique = list(OrderedDict.fromkeys(kids))
        if len(unique) > FANOUT:
            groups = _group_names(sorted(unique))
            # Balance the levels: a sibling left out of the prefix groups gets
            # pass-through levels ("bn_1+", never drawn as a cluster), so that one
            # collapse depth means one granularity across all of them.
            depth = max(len(extra) for extra in groups.values())
            virtual[parent] = {c: extra + (c + "+",) * (depth - len(extra)) for c, extra in groups.items()}
    if not virtual:
        return dict(raw)
    memo: dict[tuple[str, ...], tuple[str, ...]] = {(): ()}

    def augment(p: tuple[str, ...]) -> tuple[str, ...]:
        if p in memo:
            return memo[p]
        parent = p[:-1]
        extra = virtual.get(parent, {}).get(p[-1], ())
        out = augment(parent) + extra + (p[-1],)
        memo[p] = out
        return out

    return {n: augment(p) for n, p in raw.items()}


class _ClusterTree:
    """Nodes by cluster path, emitted as nested ``cluster_`` subgraphs in first-seen order."""

    def __init__(self) -> None:
        self.nodes: "OrderedDict[tuple[str, ...], list[tuple[str, dict]]]" = OrderedDict()
        self.kids: "OrderedDict[tuple[str, ...], list[tuple[str, ...]]]" = OrderedDict()

    def add(self, path: tuple[str, ...], node: tuple[str, dict]) -> None:
        self.nodes.setdefault(path, []).append(node)
        for i in range(len(path), 0, -1):
            parent, child = path[: i - 1], path[:i]
            kids = self.kids.setdefault(parent, [])
            if child in kids:
                break
            kids.append(child)

    def emit(self, dot: graphviz.Digraph, builder: _Builder, path: tuple[str, ...] = ()) -> None:
        for nid, attrs in self.nodes.get(path, []):
            dot.node(nid, **attrs)
        for child in self.kids.get(path, []):
            if child[-1].endswith("+"):  # a pass-through level: no cluster of its own
                self.emit(dot, builder, child)
                continue
            name = "cluster_" + "/".join(child)
            if not _SAFE_ID.match(name):
                name = "cluster__h/" + _digest("/".join(child))
            with dot.subgraph(name=graphviz.nohtml(name)) as c:
                last = child[-1]
                body = "[" in last
                virtual = last.endswith("*")
                style = "rounded,dashed" if body else "rounded,dotted" if virtual else "rounded"
                sid = svg_id("c", "/".join(child))
                text = f"scope {_display_path(child)}"
                if body:
                    text = f"function body {_display_path(child)}"
                builder.titles[sid] = text
                c.attr(label=_label(html_text(builder.layer_label(last, len(child) - 1))), style=style, color=CLUSTER_COLOUR,
                       fontcolor=CLUSTER_TEXT_COLOUR, fontsize="10", labeljust="l", margin="6",
                       id=sid, tooltip=esc_string([text]))
                self.emit(c, builder, child)


def build_drawing(report: "Report", *, view: str = "flow", collapse: int | None = None,
                  focus: str | None = None, max_nodes: int = MAX_NODES) -> Drawing:
    """Like :func:`to_dot`, but also returns the collapse note and the SVG ids the writers need."""
    return _Builder(report, view, collapse, focus, max_nodes).build()
