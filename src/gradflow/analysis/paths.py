"""How many forward paths lead from a node to the loss, and how many are cut.

Paths are counted between ops (parallel tensors between the same two ops are
one step), over the graph's DAG: ``While`` back edges are left out, and any
cycle that remains (TF1 ``NextIteration`` loops) is condensed to one node.
Edges into a ``tf.custom_gradient`` from the forward computation it replaces
are not paths of the gradient and are left out too, and so are reads of a
tensor's shape alone (``via == "shape"``) unless they are the only paths.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import networkx as nx

__all__ = ["PathCount", "count_paths", "PATH_CAP"]

PATH_CAP = 10**12
SKIPPED = frozenset({"loop", "custom_forward", "shape"})


@dataclass(frozen=True)
class PathCount:
    """Forward paths from a variable to the loss.

    Attributes:
        total: all forward paths (at most the cap).
        blocked: those with at least one edge where the gradient does not pass.
        capped: whether ``total`` reached the cap.
    """

    total: int
    blocked: int
    capped: bool = False

    def to_dict(self) -> dict:
        d = {"total": self.total, "blocked": self.blocked}
        if self.capped:
            d["capped"] = True
        return d


def _step_graph(G: nx.MultiDiGraph, target: Hashable, skip: frozenset) -> nx.DiGraph:
    """The DAG of op-to-op steps toward ``target``; ``open`` if any parallel edge is."""
    keep = nx.ancestors(G, target) | {target}
    D = nx.DiGraph()
    D.add_nodes_from(keep)
    for u, v, data in G.edges(data=True):
        if u in keep and v in keep and data.get("via") not in skip:
            if D.has_edge(u, v):
                D.edges[u, v]["open"] = D.edges[u, v]["open"] or data["open"]
            else:
                D.add_edge(u, v, open=data["open"])
    if nx.is_directed_acyclic_graph(D):
        return D
    C = nx.condensation(D)
    mapping = C.graph["mapping"]
    A = nx.DiGraph()
    A.add_nodes_from(D.nodes)
    members = {c: sorted(C.nodes[c]["members"], key=str) for c in C.nodes}
    head = {c: m[0] for c, m in members.items()}
    for u, v, data in D.edges(data=True):
        cu, cv = mapping[u], mapping[v]
        if cu == cv:
            continue
        hu, hv = head[cu], head[cv]
        if A.has_edge(hu, hv):
            A.edges[hu, hv]["open"] = A.edges[hu, hv]["open"] or data["open"]
        else:
            A.add_edge(hu, hv, open=data["open"])
    # Members of a loop count the paths of the loop's head.
    A.graph["alias"] = {m: head[mapping[m]] for m in D.nodes}
    return A


def count_paths(
    G: nx.MultiDiGraph,
    target: Hashable,
    sources: Iterable[Hashable],
    *,
    cap: int = PATH_CAP,
    skip: frozenset = SKIPPED,
) -> dict[Hashable, PathCount]:
    """Forward paths from each source to ``target``, and how many are cut.

    A path is cut when one of its steps is not open. Counts stop at ``cap``.
    A source whose only forward paths read a shape gets those counted.

    Examples:
        The straight-through estimator ``x + stop_gradient(round(x) - x)``::

            x ──> add ──> loss
            x ──> round ──> sub ──> sg ╳─> add
            x ──────────────> sub

        >>> G = nx.MultiDiGraph()
        >>> for u, v, ok in [("x", "add", 1), ("x", "round", 0), ("round", "sub", 1),
        ...                  ("x", "sub", 1), ("sub", "sg", 0), ("sg", "add", 1),
        ...                  ("add", "loss", 1)]:
        ...     _ = G.add_edge(u, v, open=bool(ok), via="data")
        >>> count_paths(G, "loss", ["x"])["x"]
        PathCount(total=3, blocked=2, capped=False)
    """
    sources = list(sources)
    result = _count(G, target, sources, cap, skip)
    shape_only = [s for s in sources if result[s].total == 0 and "shape" in skip]
    if shape_only:
        result.update(_count(G, target, shape_only, cap, skip - {"shape"}))
    return result


def _count(G: nx.MultiDiGraph, target: Hashable, sources: list, cap: int, skip: frozenset) -> dict:
    D = _step_graph(G, target, skip)
    alias = D.graph.get("alias", {})
    total: dict[Hashable, int] = {target: 1}
    blocked: dict[Hashable, int] = {target: 0}
    capped: set = set()
    for node in reversed(list(nx.topological_sort(D))):
        if node == target or node not in D:
            continue
        t = b = 0
        for _, succ, data in D.out_edges(node, data=True):
            st = total.get(succ, 0)
            t += st
            b += blocked.get(succ, 0) if data["open"] else st
        if t >= cap or any(s in capped for s in D.successors(node)):
            capped.add(node)
        total[node] = min(t, cap)
        blocked[node] = min(b, cap)
    result = {}
    for s in sources:
        key = alias.get(s, s)
        if key not in total:
            result[s] = PathCount(0, 0)
        else:
            result[s] = PathCount(total[key], blocked[key], key in capped)
    return result
