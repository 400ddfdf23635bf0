"""Where the gradient dies on the paths of one variable, and what one cut shields."""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import networkx as nx

__all__ = ["blockers_of", "shields"]


def blockers_of(G: nx.MultiDiGraph, source: Hashable, target: Hashable, *, reaching: set | None = None) -> list:
    """The ops that cut some forward path from ``source`` to ``target``.

    An op is a blocker when it has a cut input edge that lies on a forward
    path: the edge's tail is reachable from ``source`` and its head reaches
    ``target``. Each op appears once, in sorted order.

    Args:
        reaching: ``forward_ancestors(G, target)`` when already known.

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
        >>> blockers_of(G, "w2", "loss")
        ['sg']
        >>> blockers_of(G, "w1", "loss")
        []
    """
    reaching = nx.ancestors(G, target) if reaching is None else reaching
    downstream = nx.descendants(G, source) | {source}
    found = set()
    for node in downstream:
        if node != target and node not in reaching:
            continue
        for u, _, data in G.in_edges(node, data=True):
            if data.get("cut") is not None and u in downstream:
                found.add(node)
    return sorted(found, key=str)


def shields(G: nx.MultiDiGraph, cut_node: Hashable, sources: Iterable[Hashable], target: Hashable) -> list:
    """The sources all of whose forward paths to ``target`` pass through ``cut_node``.

    Examples:
        >>> G = nx.MultiDiGraph([("w2", "mul"), ("w3", "mul"), ("mul", "sg"),
        ...                      ("sg", "sub"), ("w1", "sub"), ("sub", "loss")])
        >>> shields(G, "sg", ["w1", "w2", "w3"], "loss")
        ['w2', 'w3']
    """
    without = nx.restricted_view(G, [cut_node], [])
    still = nx.ancestors(without, target)
    reaching = nx.ancestors(G, target)
    return [s for s in sources if s in reaching and s not in still and s != cut_node]
