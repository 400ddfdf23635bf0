"""How many forward paths lead from a node to the loss, and how many are cut.

Paths are counted between ops (parallel tensors between the same two ops are
one step), over the graph's DAG: ``While`` back edges are left out, and any
cycle that remains (TF1 ``NextIteration`` loops) is condensed to one node.
Edges into a ``tf.custom_gradient`` from the forward computation it replaces
are not paths of the gradient and are left out too, and so are a ``While``'s
zero-filled loop inputs (no value flows along them), and reads of a
tensor's shape alone (``via == "shape"``) unless they are the only paths.
"""

from __future__ import annotations

import graphlib
from collections.abc import Hashable, Iterable
import networkx as nx

from ..schema import PathCount
from .reach import backward_search

__all__ = ["PathCount", "count_paths", "PATH_CAP"]

PATH_CAP = 10**12
SKIPPED = frozenset({"loop", "custom_forward", "shape", "zero_fill"})


def _step_graph(G: nx.MultiDiGraph, keep: set, skip: frozenset) -> tuple[dict, list, dict]:
    """The op-to-op steps among ``keep``: ``(steps, order, alias)``.

    ``steps[u][v]`` is True when some parallel edge ``u -> v`` is open;
    ``order`` lists every node after all its successors; ``alias`` maps the
    members of a condensed cycle to the one node that stands for them.
    Plain dicts: this runs over every edge of 10,000-op graphs.
    """
    steps: dict = {n: {} for n in keep}
    for u, nbrs in G._adj.items():
        if u not in keep:
            continue
        out = steps[u]
        for v, keyed in nbrs.items():
            if v not in keep:
                continue
            for d in keyed.values():
                if d.get("via") not in skip:
                    out[v] = out.get(v, False) or d["open"]
    try:
        # Successors given as "predecessors": static_order yields sinks first.
        return steps, list(graphlib.TopologicalSorter(steps).static_order()), {}
    except graphlib.CycleError:
        pass
    D = nx.DiGraph((u, v) for u, out in steps.items() for v in out)
    D.add_nodes_from(steps)
    C = nx.condensation(D)
    mapping = C.graph["mapping"]
    head = {c: min(C.nodes[c]["members"], key=str) for c in C.nodes}
    condensed: dict = {head[c]: {} for c in C.nodes}
    for u, out in steps.items():
        hu = head[mapping[u]]
        for v, is_open in out.items():
            hv = head[mapping[v]]
            if hu != hv:
                condensed[hu][hv] = condensed[hu].get(hv, False) or is_open
    # Members of a loop count the paths of the loop's head.
    alias = {m: head[mapping[m]] for m in steps}
    return condensed, list(graphlib.TopologicalSorter(condensed).static_order()), alias


def count_paths(
    G: nx.MultiDiGraph,
    target: Hashable,
    sources: Iterable[Hashable],
    *,
    cap: int = PATH_CAP,
    skip: frozenset = SKIPPED,
    ancestors: set | None = None,
) -> dict[Hashable, PathCount]:
    """Forward paths from each source to ``target``, and how many are cut.

    A path is cut when one of its steps is not open. Counts stop at ``cap``.
    ``ancestors``: the nodes with a forward path to ``target``, when already known.
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
    keep = (ancestors if ancestors is not None else backward_search(G, target)) | {target}
    result = _count(G, target, keep, sources, cap, skip)
    shape_only = [s for s in sources if result[s].total == 0 and s in keep and "shape" in skip]
    if shape_only:
        result.update(_count(G, target, keep, shape_only, cap, skip - {"shape"}))
    return result


def _count(G: nx.MultiDiGraph, target: Hashable, keep: set, sources: list, cap: int,
           skip: frozenset) -> dict:
    steps, order, alias = _step_graph(G, keep, skip)
    target = alias.get(target, target)
    total: dict[Hashable, int] = {target: 1}
    blocked: dict[Hashable, int] = {target: 0}
    capped: set = set()
    for node in order:  # successors first
        if node == target:
            continue
        t = b = 0
        hit_cap = False
        for succ, is_open in steps[node].items():
            st = total[succ]
            t += st
            b += blocked[succ] if is_open else st
            hit_cap = hit_cap or succ in capped
        if t >= cap or hit_cap:
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
