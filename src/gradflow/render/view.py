"""What the drawing shows: which ops and edges, and what each of them is.

The ``flow`` view keeps what lies on forward paths from the variables to the
loss, with chains of trivial ops (Identity, ReadVariableOp...) contracted; the
``full`` view keeps every op. Each kept op gets a kind (a variable, the loss, an
op on a gradient path, a forward value, a cut, a cut by design such as library
internals, ...) and each edge a class (the gradient flows along it, it is cut,
it lies behind a cut, it carries a forward value only, or it is faint).

Reachability is :mod:`gradflow.analysis.reach`'s searches; :class:`View` only
reads the report and its analysis graph, and never imports TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..analysis.reach import backward_search, reached
from ..cuts import is_stop_gradient_op
from ..schema import Status
from .focus import resolve_focus, variable_node
from .overview import is_library_cut

if TYPE_CHECKING:
    from ..report import Report
    from ..schema import VariableReport

__all__ = ["View", "build_view", "Edge", "VIEWS", "TRIVIAL_TYPES", "PATH_RANK",
           "FLOW", "CUT", "BEHIND", "FORWARD", "FAINT", "EDGE_ORDER"]

VIEWS = ("flow", "full")
# Ops that only pass a value on: contracted away in the flow view.
TRIVIAL_TYPES = frozenset({"Identity", "IdentityN", "ReadVariableOp", "Snapshot", "Enter", "Exit",
                           "NextIteration"})

# Edge classes, strongest first.
FLOW, CUT, BEHIND, FORWARD, FAINT = "flow", "cut", "behind", "forward", "faint"
EDGE_ORDER = {FLOW: 0, CUT: 1, BEHIND: 2, FORWARD: 3, FAINT: 4}
# Statuses that carry a gradient, best first: the colour of a strong path.
PATH_RANK = (Status.FLOWS, Status.NONFINITE, Status.ZERO)


@dataclass
class Edge:
    """One drawn edge: its ends, its class, and what the tooltip says about its tensor."""

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


def is_open(d: dict) -> bool:
    """Whether an analysis-graph edge lets the gradient through (``cuts.py`` decided)."""
    return bool(d.get("open"))


def path_ranks(G: Any, sources_by_rank: list[list[str]], allowed: set) -> dict[str, int]:
    """For each node in ``allowed``: the best-ranked variable whose gradient flows through it."""
    rank: dict[str, int] = {}
    for r, sources in enumerate(sources_by_rank):
        for n in reached(G, sources, edge_ok=is_open, node_ok=allowed.__contains__):
            rank.setdefault(n, r)
    return rank


class View:
    """The kept ops and edges of a report's analysis graph, classified.

    Build it with :func:`build_view`. Attributes after that:

    - ``by_node``: graph node -> the variables it shows (focus applied);
      ``extra_vars``: variables with no node in the graph;
    - ``D``, ``A``, ``R``, ``F``: reached from the variables, reaching the loss,
      reaching the loss along open edges, reached along open edges; ``onpath``
      (``D & A``); ``D_train``: reached from trainable variables;
    - ``rank``: node -> index into :data:`PATH_RANK` of the best gradient through it;
    - ``order``, ``keep``: the kept nodes (graph order), ``edges``: the kept edges;
    - ``cut_nodes``: nodes a cut edge enters, ``cut_from``: from which nodes.
    """

    def __init__(self, report: "Report", mode: str, focus: str | None) -> None:
        self.report = report
        self.mode = mode
        self.focus = focus
        self.G = report.flow.G
        self.loss = report.flow.loss
        self.by_node: dict[str, list[VariableReport]] = {}
        self.extra_vars: list[VariableReport] = []  # variables with no node in the graph
        for v in report.variables:
            node = variable_node(report, v)
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
        self.R = backward_search(G, self.loss, edge_ok=is_open) | {self.loss}
        self.F = reached(G, sources, edge_ok=is_open)
        self.onpath = self.D & self.A
        self.D_train = reached(G, [n for n, vs in self.by_node.items() if any(v.trainable for v in vs)])
        by_rank: list[list[str]] = [[] for _ in PATH_RANK]
        for node, vs in self.by_node.items():
            best = min((PATH_RANK.index(v.status) for v in vs if v.status in PATH_RANK), default=None)
            if best is not None:
                by_rank[best].append(node)
        self.rank = path_ranks(G, by_rank, self.F & self.R)

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
        if self.mode == "full" and self.focus is None:
            keep = set(G)
        else:
            # Variables off every path still show (isolated): that is their story.
            keep = set(self.onpath) | {self.loss} | set(self.by_node)
        self.order = [n for n in G if n in keep]
        self.keep = keep
        edges: list[Edge] = []
        for u in self.order:
            for v, keyed in G.succ[u].items():
                if v not in keep:
                    continue
                for key, d in keyed.items():
                    src_slot, _, dst_slot = str(key).partition(":")
                    cut = d.get("cut")
                    edges.append(Edge(
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
        if self.mode != "flow":
            return
        G = self.G
        out: dict[str, list[int]] = {n: [] for n in self.order}
        inn: dict[str, list[int]] = {n: [] for n in self.order}
        edges: dict[int, Edge] = {}
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
                    new.append(Edge(a.u, b.v, merge_class(a.cls, b.cls), merge_via(a.via, b.via),
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

    # -- what the flow view leaves out ------------------------------------------
    def hides(self, n: str) -> bool:
        """Flow view: a variable that is not trainable and lies on no path is left out.

        (BatchNorm's moving statistics, say: drawn alone they would only stretch
        their layer's cluster. Collapsed scopes still count them.)
        """
        if self.mode != "flow" or self.focus is not None or n not in self.by_node or n in self.onpath:
            return False
        return not any(v.trainable for v in self.by_node[n])

    def hides_extra(self, v: "VariableReport") -> bool:
        """Flow view: a variable with no node in the graph that is not trainable is left out."""
        return self.mode == "flow" and not v.trainable and self.focus is None


def build_view(report: "Report", *, mode: str, focus: str | None) -> View:
    """Classify ``report``'s analysis graph for the ``mode`` view (``flow`` or ``full``).

    Raises:
        UsageError: ``focus`` names no variable or scope (see :func:`~gradflow.render.focus.resolve_focus`).
    """
    view = View(report, mode, focus)
    view.classify()
    view.select()
    view.contract()
    return view


def merge_class(a: str, b: str) -> str:
    """The class of an edge that stands for two contracted edges."""
    if CUT in (a, b):
        return CUT
    if BEHIND in (a, b):
        return BEHIND
    if a == FLOW and b == FLOW:
        return FLOW
    if FAINT in (a, b):
        return FAINT
    return FORWARD


def merge_via(a: str, b: str) -> str:
    """What an edge that stands for two contracted edges goes through (a loop, a predicate...)."""
    for via in ("loop", "pred", "shape", "custom_forward"):
        if via in (a, b):
            return via
    return "data"
