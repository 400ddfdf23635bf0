"""Where the gradient dies on the paths of one variable, and what one cut shields."""

from __future__ import annotations

import graphlib
from collections.abc import Hashable, Iterable

import networkx as nx

from .reach import backward_search

__all__ = ["blockers_by_source", "blockers_of", "shields"]


def blockers_by_source(G: nx.MultiDiGraph, sources: Iterable[Hashable], target: Hashable, *,
                       reaching: set | None = None, ignore: frozenset = frozenset()) -> dict:
    """For each source, the ops where its forward paths to ``target`` first lose the gradient.

    An op ``X`` blocks source ``s`` when one of its input edges ``u -> X`` is
    cut, the gradient still reaches ``u`` from ``s`` (a path of open edges, or
    ``u`` is ``s``), and ``X`` leads on to ``target``. Later cuts on an already
    dead path are not listed: they are not where that path dies. One backward
    search per cut edge's tail answers for every source at once.

    Args:
        reaching: the nodes with a forward path to ``target``, when already known.
        ignore: cut kinds to leave out (e.g. reads of a shape, for a variable
            that still learns).

    Returns:
        source -> sorted list of blocking nodes.

    Examples:
        ``loss = mean(x@w1 - stop_gradient(x@(w2*w3)))``::

            w2 ──> mul ──> matmul ──> sg ╳─> sub ──> loss
            w1 ──> matmul_1 ──────────────> sub

        >>> G = nx.MultiDiGraph()
        >>> for u, v, cut in [("w2", "mul", None), ("mul", "matmul", None),
        ...                   ("matmul", "sg", "tf.stop_gradient"), ("sg", "sub", None),
        ...                   ("w1", "matmul_1", None), ("matmul_1", "sub", None),
        ...                   ("sub", "loss", None)]:
        ...     _ = G.add_edge(u, v, cut=cut, open=cut is None)
        >>> blockers_by_source(G, ["w1", "w2"], "loss")
        {'w1': [], 'w2': ['sg']}
    """
    sources = list(sources)
    if not sources:
        return {}
    if reaching is None:
        reaching = backward_search(G, target, edge_ok=lambda d: d.get("via") != "custom_forward")
    # Each blocking op gets one bit; bits[n] holds the blockers of node n: the
    # cut edges reachable from n along open edges. One backward fixpoint (open
    # edges only, so While back edges simply go round) answers every source.
    heads: dict = {}
    bits: dict = {}
    for u, x, data in G.edges(data=True):
        cut = data.get("cut")
        if cut is None or data.get("via") == "custom_forward" or getattr(cut, "kind", cut) in ignore:
            continue
        if x == target or x in reaching:
            head = u if data.get("cut_at") == "tail" else x
            bit = heads.setdefault(head, 1 << len(heads))
            bits[u] = bits.get(u, 0) | bit
    _propagate_backward(G, bits)
    # Invariant: bits[n] has the bit of every cut reachable from n by open edges.
    names = sorted(heads, key=str)
    result = {}
    for s in sources:
        b = bits.get(s, 0)
        result[s] = [h for h in names if b & heads[h]]
    return result


def _open_preds(G: nx.MultiDiGraph) -> dict:
    """node -> the predecessors it takes the gradient from (an open, non-custom-forward edge)."""
    out = {}
    for node, preds in G._pred.items():  # the raw dicts: views cost a call per lookup
        mine = []
        for p, keyed in preds.items():
            for d in keyed.values():
                if d["open"] and d.get("via") != "custom_forward":
                    mine.append(p)
                    break
        out[node] = mine
    return out


def _propagate_backward(G: nx.MultiDiGraph, bits: dict) -> None:
    """OR each node's bits into every predecessor it is open to, until nothing changes.

    On a DAG one sweep in reverse topological order is the fixpoint; a graph
    with cycles (TF1 ``NextIteration`` loops) falls back to a worklist.
    """
    preds = _open_preds(G)
    sorter = graphlib.TopologicalSorter({n: ps for n, ps in preds.items() if ps})
    try:
        order = list(sorter.static_order())  # predecessors first
    except graphlib.CycleError:
        work = list(bits)
        while work:
            node = work.pop()
            mine = bits[node]
            for p in preds.get(node, ()):
                old = bits.get(p, 0)
                if old | mine != old:
                    bits[p] = old | mine
                    work.append(p)
        return
    for node in reversed(order):
        mine = bits.get(node)
        if mine:
            for p in preds.get(node, ()):
                bits[p] = bits.get(p, 0) | mine


def blockers_of(G: nx.MultiDiGraph, source: Hashable, target: Hashable, **options) -> list:
    """:func:`blockers_by_source` for one source.

    Examples:
        >>> G = nx.MultiDiGraph()
        >>> _ = G.add_edge("v", "round", cut="Round", open=False)
        >>> _ = G.add_edge("round", "sg", cut="tf.stop_gradient", open=False)
        >>> _ = G.add_edge("sg", "loss", cut=None, open=True)
        >>> blockers_of(G, "v", "loss")
        ['round']
    """
    return blockers_by_source(G, [source], target, **options)[source]


def shields(G: nx.MultiDiGraph, cut_nodes: Iterable[Hashable], sources: Iterable[Hashable],
            target: Hashable, *, ancestors: set | None = None) -> dict:
    """For each cut node, the sources all of whose forward paths to ``target`` pass through it.

    ``ancestors``: the nodes with a forward path to ``target``, when already known.

    One post-dominator tree answers for every cut node at once: ``c`` shields
    ``s`` exactly when ``c`` post-dominates ``s`` with respect to ``target``.

    Examples:
        >>> G = nx.MultiDiGraph([("w2", "mul"), ("w3", "mul"), ("mul", "sg"),
        ...                      ("sg", "sub"), ("w1", "sub"), ("sub", "loss")])
        >>> shields(G, ["sg"], ["w1", "w2", "w3"], "loss")
        {'sg': ['w2', 'w3']}
    """
    cut_nodes = list(cut_nodes)
    result: dict = {c: [] for c in cut_nodes}
    reaching = ancestors if ancestors is not None else backward_search(G, target)
    wanted = set(cut_nodes) & reaching
    if not wanted:
        return result
    # The reversed graph of the nodes that reach the target, from the raw dicts.
    keep = reaching | {target}
    R = nx.DiGraph({v: [u for u in G._pred[v] if u in reaching] for v in keep})
    idom = nx.immediate_dominators(R, target)
    for s in sources:
        if s not in idom or s == target:
            continue
        node = idom[s]
        while node != target:
            if node in wanted:
                result[node].append(s)
            node = idom[node]
    return result
