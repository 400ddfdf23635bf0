"""The colour-coded gradient-flow graph, as a ``graphviz.Digraph``: the DOT emission.

Built from a finished :class:`~gradflow.report.Report` and its analysis graph
(``report.flow.G``); never imports TensorFlow and never re-runs the analysis.
What is drawn is decided elsewhere: :mod:`~gradflow.render.view` (which ops and
edges, and what each is), :mod:`~gradflow.render.focus` (``--focus``) and
:mod:`~gradflow.render.collapse` (clusters, ``--collapse``). This module turns
those decisions into nodes, edges, clusters and tooltips, with the legend of
:mod:`~gradflow.render.legend` and the ids and escaping of :mod:`~gradflow.render.dotsyntax`.
:func:`to_dot` returns the ``graphviz.Digraph``; :mod:`gradflow.render.files`
runs Graphviz's ``dot`` on it and writes files.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import graphviz

from ..errors import ArgumentError, RenderError
from ..schema import Status, shape_text
from .collapse import display_path, plan_scopes
from .dotsyntax import SAFE_ID, digest, dot_id, esc_string, html_label, html_text, small_text, svg_id
from .focus import resolve_focus
from .legend import add_legend
from .overview import overview
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
from .view import BEHIND, CUT, EDGE_ORDER, FAINT, FLOW, FORWARD, PATH_RANK, TRIVIAL_TYPES, VIEWS, Edge, build_view

if TYPE_CHECKING:
    from ..report import Report
    from ..schema import VariableReport

__all__ = ["to_dot", "build_drawing", "Drawing", "resolve_focus", "VIEWS", "MAX_NODES", "TRIVIAL_TYPES"]

MAX_NODES = 300

# What an edge of each class means, for its tooltip.
_EDGE_WORDS = {
    FLOW: "gradient flows back along this tensor",
    CUT: "the gradient is cut here",
    BEHIND: "behind a cut: no gradient reaches this tensor",
    FORWARD: "forward value only: its gradient never reaches a variable",
    FAINT: "not on a path from a variable to the loss",
}


def _shape_text(shape: Any) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, str):
        return shape
    return shape_text(shape)


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


class _Builder:
    """One drawing: the view and scopes decided, then nodes, clusters, edges and legend emitted."""

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
        self.mode = view
        self.collapse = collapse
        self.focus = focus
        self.max_nodes = max_nodes
        self.flow = report.flow
        self.G = report.flow.G

    # -- emitting ------------------------------------------------------------
    def build(self) -> Drawing:
        self.view = build_view(self.report, mode=self.mode, focus=self.focus)
        self.scopes = plan_scopes(self.view, collapse=self.collapse, max_nodes=self.max_nodes)
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
        for n in self.view.order:
            g = self.scopes.group_of(n)
            if g is None and self.view.hides(n):
                # Collapsed scopes still count them; drawn alone they would only stretch their cluster.
                self.hidden += len(self.view.by_node[n])
                continue
            if g is not None:
                if g not in groups:
                    groups[g] = []
                    placed.append((g[:-1], "group", {"group": g}))
                groups[g].append(n)
                stand_in[n] = _group_id(g)
            else:
                stand_in[n] = dot_id(n)
                placed.append((self.scopes.paths[n], "node", {"node": n}))
        clusters = _ClusterTree()
        for path, what, info in placed:
            if what == "node":
                attrs = self.node_attrs(info["node"])
                clusters.add(path, (stand_in[info["node"]], attrs))
            else:
                g = info["group"]
                attrs = self.group_attrs(g, groups[g])
                clusters.add(path, (_group_id(g), attrs))
        for v in self.view.extra_vars:
            if self.view.hides_extra(v):
                self.hidden += 1
                continue
            nid = dot_id("_var/" + v.name)
            clusters.add((), (nid, self.variable_attrs([v], nid)))
        dot.attr(label=self.title_label())
        clusters.emit(dot, self)
        self.emit_edges(dot, stand_in)
        add_legend(dot, self.titles)
        drawn = len(placed) + len(self.view.extra_vars)
        return Drawing(digraph=dot, note=self.scopes.note, depth=self.scopes.depth, nodes=drawn,
                       total=self.scopes.total, titles=self.titles, variable_ids=self.variable_ids)

    def title_label(self) -> str:
        r = self.report
        where = f" in {html_text(r.source)}" if r.source else ""
        rows = [f"<B>gradflow</B>  ·  {html_text(r.target)}{where}", html_text(overview(r).headline)]
        view = [self.mode + " view"]
        if self.focus is not None:
            view.append(f"focus on {self.focus}")
        if self.scopes.note is not None:
            view.append(self.scopes.note)
        elif self.scopes.depth is not None:
            view.append(f"scopes collapsed below depth {self.scopes.depth}")
        if self.hidden:
            view.append(f"{self.hidden} non-trainable variable{'s' if self.hidden != 1 else ''} "
                        "off every path not drawn (--view full draws them)")
        rows.append(small_text(html_text(", ".join(view)), FAINT_TEXT_COLOUR, 10))
        return "<" + "".join(row + '<BR ALIGN="LEFT"/>' for row in rows) + ">"

    # -- nodes ----------------------------------------------------------------
    def _title(self, key: str, lines: list[str], attrs: dict, kind: str) -> None:
        sid = svg_id(kind, key)
        attrs["id"] = sid
        attrs["tooltip"] = esc_string(lines)
        self.titles[sid] = "\n".join(lines)

    def node_attrs(self, n: str) -> dict:
        kind = self.view.node_kind(n)
        if kind == "variable":
            return self.variable_attrs(self.view.by_node[n], n)
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
            if n in self.view.blocker_ops:
                status_line += " (blocks every path of some variable)"
        lines = [f"{op_type} {n}", f"dtype {dtype or '-'}  shape {shape or '-'}",
                 f"source {loc}" if loc else "source: (not recorded)", f"status: {status_line}"]
        self._title("n/" + n, lines, attrs, "n")
        short = name.rpartition("/")[2]
        show_name = short.replace("_", "").lower() != op_type.lower()
        type_row = f"<B>{html_text(op_type)}</B>"
        if kind == "loss":
            attrs.update(node_style("loss"), margin="0.02")
            attrs["label"] = html_label("<B>loss</B>")
        elif kind == "stop_gradient":
            attrs.update(node_style("stop_gradient"))
            rows = [type_row]
            if loc is not None:
                rows.append(small_text(html_text(loc)))
            attrs["label"] = html_label(*rows)
        elif kind == "cut":
            attrs.update(node_style("cut"))
            rows = [f"✗ {type_row}", small_text(html_text(reason), CUT_COLOUR)]
            if loc is not None:
                rows.append(small_text(html_text(loc), CUT_COLOUR))
            attrs["label"] = html_label(*rows)
        elif kind == "grad":
            colour = style_of(PATH_RANK[self.view.rank[n]]).colour
            attrs.update(node_style("grad", colour))
            rows = [type_row] + ([small_text(html_text(short), FAINT_TEXT_COLOUR)] if show_name else [])
            attrs["label"] = html_label(*rows)
        elif kind == "quiet_cut":
            attrs.update(node_style("quiet_cut"))
            attrs["label"] = html_label(html_text(op_type), small_text(html_text("by design"), FAINT_COLOUR, 8))
        elif kind == "input":
            attrs.update(node_style("input"))
            attrs["label"] = html_label(html_text(name), small_text(html_text(f"{dtype} {shape}")))
        else:
            attrs.update(node_style(kind))
            rows = [html_text(op_type)] + ([small_text(html_text(short))] if show_name else [])
            attrs["label"] = html_label(*rows)
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
        attrs["label"] = html_label(f"<B>{names}</B>", small_text(detail, sub),
                                small_text(html_text(f"{st.symbol} {v.status.value}"), sub, 10))
        return attrs

    def group_attrs(self, g: tuple[str, ...], members: list[str]) -> dict:
        counts = {s: 0 for s in Status}
        counts_nt = {s: 0 for s in Status}
        ops = cuts = blocking = 0
        grad_rank = None
        forward = False
        for n in members:
            kind = self.view.node_kind(n)
            if kind == "variable":
                for v in self.view.by_node[n]:
                    (counts if v.trainable else counts_nt)[v.status] += 1
                    self.variable_ids[v.name] = svg_id("g", "/".join(g))
                continue
            ops += 1
            if kind in ("cut", "stop_gradient"):  # quiet cuts by design are not counted
                cuts += 1
                blocking += n in self.view.blocker_ops
            if n in self.view.rank and n in self.view.R:
                r = self.view.rank[n]
                grad_rank = r if grad_rank is None else min(grad_rank, r)
            forward = forward or n in self.view.onpath
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
            colour = (style_of(PATH_RANK[grad_rank]).colour if grad_rank is not None
                      else FORWARD_COLOUR if forward else FAINT_COLOUR)
            attrs.update(fillcolor="white", color=colour, fontcolor=TEXT_COLOUR, penwidth="2")
            sub = FAINT_TEXT_COLOUR
        if blocking:
            attrs.update(color=CUT_COLOUR, penwidth="3")
        rows = [f"<B>{html_text(self.scopes.layer_label(g[-1], len(g) - 1))}</B>"]
        parts = [f"{ops} op{'s' if ops != 1 else ''}"]
        if n_vars:
            parts.append(f"{n_vars} variable{'s' if n_vars != 1 else ''}")
        rows.append(small_text(html_text(" · ".join(parts)), sub))
        status_bits = [f"{counts[s]} {style_of(s).label}" for s in STATUS_ORDER if counts[s]]
        status_bits += [f"{counts_nt[s]} {style_of(s).label} (not trainable)" for s in STATUS_ORDER if counts_nt[s]]
        if status_bits:
            rows.append(small_text(html_text(", ".join(status_bits)), sub))
        if cuts:
            cut_text = f"✗ {cuts} cut{'s' if cuts != 1 else ''}" + (f", {blocking} blocking" if blocking else "")
            rows.append(small_text(html_text(cut_text), CUT_COLOUR if not trained else sub))
        attrs["label"] = html_label(*rows)
        where = display_path(g)
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
        merged: list[tuple[str, str, Edge, int]] = []
        for e in self.view.edges:
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
        if self.scopes.depth is not None:
            best: dict[tuple[str, str], int] = {}
            for u, v, e, _ in merged:
                best[(u, v)] = min(best.get((u, v), 9), EDGE_ORDER[e.cls])
            merged = [m for m in merged if EDGE_ORDER[m[2].cls] == best[(m[0], m[1])]]
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

    def edge_attrs(self, e: Edge, count: int) -> dict:
        quiet = e.cls in (CUT, BEHIND) and (
            (e.cls == CUT and e.v in self.view.cut_nodes and self.view.quiet_cut(e.v))
            or (e.u in self.view.cut_nodes and self.view.quiet_cut(e.u)) or e.u not in self.view.D_train)
        if quiet:
            attrs = {"color": FAINT_COLOUR, "style": "dashed", "penwidth": "0.9"}
        elif e.cls == FLOW:
            colour = style_of(PATH_RANK[self.view.rank.get(e.u, 0)]).colour
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
def _group_id(g: tuple[str, ...]) -> str:
    return dot_id("_scope/" + "/".join(g))


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
            if not SAFE_ID.match(name):
                name = "cluster__h/" + digest("/".join(child))
            with dot.subgraph(name=graphviz.nohtml(name)) as c:
                last = child[-1]
                body = "[" in last
                virtual = last.endswith("*")
                style = "rounded,dashed" if body else "rounded,dotted" if virtual else "rounded"
                sid = svg_id("c", "/".join(child))
                text = f"scope {display_path(child)}"
                if body:
                    text = f"function body {display_path(child)}"
                builder.titles[sid] = text
                label = html_label(html_text(builder.scopes.layer_label(last, len(child) - 1)))
                c.attr(label=label, style=style, color=CLUSTER_COLOUR,
                       fontcolor=CLUSTER_TEXT_COLOUR, fontsize="10", labeljust="l", margin="6",
                       id=sid, tooltip=esc_string([text]))
                self.emit(c, builder, child)


def build_drawing(report: "Report", *, view: str = "flow", collapse: int | None = None,
                  focus: str | None = None, max_nodes: int = MAX_NODES) -> Drawing:
    """Like :func:`to_dot`, but also returns the collapse note and the SVG ids the writers need."""
    return _Builder(report, view, collapse, focus, max_nodes).build()
