"""Where the gradient dies on the paths of one variable, and what one cut shields."""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import networkx as nx

__all__ = ["blockers_of", "shields"]


def _gradient_paths(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """``G`` without the forward edges a ``tf.custom_gradient`` replaces."""
    return nx.subgraph_view(G, filter_edge=lambda u, v, k: G.edges[u, v, k].get("via") != "custom_forward")


def blockers_of(G: nx.MultiDiGraph, source: Hashable, target: Hashable, *,
                reaching: set | None = None, ignore: frozenset = frozenset()) -> list:
    """The ops where forward paths from ``source`` to ``target`` first lose the gradient.

    An op is a blocker when one of its input edges is cut, the gradient still
    reaches that edge's tail from ``source`` (a path of open edges), and the op
    leads on to ``target``. Later cuts on an already dead path are not listed:
    they are not where that path dies. Each op appears once, in sorted order.

    Args:
        reaching: the nodes with a forward path to ``target``, when already known.
        ignore: cut kinds to leave out (e.g. reads of a shape, for a variable
            that still learns).

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
    H = _gradient_paths(G)
    reaching = nx.ancestors(H, target) if reaching is None else reaching
    open_view = nx.subgraph_view(H, filter_edge=lambda u, v, k: H.edges[u, v, k]["open"])
    alive = nx.descendants(open_view, source) | {source}
    found = set()
    for u in alive:
        for _, node, data in H.out_edges(u, data=True):
            cut = data.get("cut")
            if cut is None or getattr(cut, "kind", cut) in ignore:
                continue
            if node == target or node in reaching:
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
