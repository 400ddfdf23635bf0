"""Which nodes reach the loss: forward at all, and along edges the gradient passes.

``forward_ancestors`` is the "between" test of ``gradients_util`` read
backwards: a node reaches the loss when some chain of tensors links them.
``open_ancestors`` keeps only edges where the gradient passes back, so a
variable in it is exactly one whose gradient TensorFlow computes as a tensor.
"""

from __future__ import annotations

from collections.abc import Hashable

import networkx as nx

__all__ = ["backward_search", "forward_ancestors", "open_ancestors", "open_subgraph", "reached"]


def open_subgraph(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A read-only view of ``G`` with only the edges where the gradient passes.

    Examples:
        >>> G = nx.MultiDiGraph()
        >>> _ = G.add_edge("w", "sg", open=False)
        >>> _ = G.add_edge("sg", "loss", open=True)
        >>> sorted(open_subgraph(G).edges())
        [('sg', 'loss')]
    """
    return nx.subgraph_view(G, filter_edge=lambda u, v, k: G.edges[u, v, k]["open"])


def backward_search(G: nx.MultiDiGraph, target: Hashable, *, edge_ok=None, node_ok=None) -> set:
    """Nodes with a path to ``target`` over edges with ``edge_ok(data)`` and nodes with ``node_ok(n)``.

    A plain search over the adjacency dicts: networkx's filtered views cost a
    call per edge lookup, which matters on 10,000-op graphs.

    Examples:
        >>> G = nx.MultiDiGraph()
        >>> _ = G.add_edge("a", "b", open=False)
        >>> _ = G.add_edge("b", "loss", open=True)
        >>> sorted(backward_search(G, "loss", edge_ok=lambda d: d["open"]))
        ['b']
    """
    seen: set = set()
    frontier = [target]
    pred = G._pred  # the raw dicts, as networkx's own algorithms read them
    while frontier:
        node = frontier.pop()
        for u, keyed in pred[node].items():
            if u in seen or u == target:
                continue
            if node_ok is not None and not node_ok(u):
                continue
            if edge_ok is None or any(edge_ok(d) for d in keyed.values()):
                seen.add(u)
                frontier.append(u)
    # Invariant: seen holds every allowed node with an allowed path to target.
    return seen


def forward_ancestors(G: nx.MultiDiGraph, target: Hashable) -> set:
    """Every node with a forward path (any edge) to ``target``.

    Examples:
        >>> G = nx.MultiDiGraph([("w", "sg"), ("sg", "loss"), ("u", "assign")])
        >>> sorted(forward_ancestors(G, "loss"))
        ['sg', 'w']
    """
    return backward_search(G, target)


def open_ancestors(G: nx.MultiDiGraph, target: Hashable) -> set:
    """Every node whose gradient from ``target`` exists: a path of open edges.

    Mirrors ``gradients_util._GradientsHelper``: a tensor gets a gradient when
    some consumer passes one back to it, and a consumer passes one back when
    its own outputs have one and its gradient function returns a tensor for
    that input.

    Examples:
        >>> G = nx.MultiDiGraph()
        >>> _ = G.add_edge("w1", "matmul", open=True)
        >>> _ = G.add_edge("w2", "sg", open=True)
        >>> _ = G.add_edge("sg", "sub", open=False)
        >>> _ = G.add_edge("matmul", "sub", open=True)
        >>> _ = G.add_edge("sub", "loss", open=True)
        >>> sorted(open_ancestors(G, "loss"))
        ['matmul', 'sub', 'w1']
    """
    return backward_search(G, target, edge_ok=lambda d: d["open"])


def reached(G: nx.MultiDiGraph, sources, *, edge_ok=None, node_ok=None) -> set:
    """The sources and every node reachable from any of them, in one search.

    Mirrors ``gradients_util._MarkReachedOps``, over all edges (or only those
    with ``edge_ok(data)``, into nodes with ``node_ok(n)``).

    Examples:
        >>> G = nx.MultiDiGraph([("w1", "a"), ("w2", "b"), ("a", "loss"), ("c", "loss")])
        >>> sorted(reached(G, ["w1", "w2"]))
        ['a', 'b', 'loss', 'w1', 'w2']
    """
    seen = set(sources)
    frontier = list(seen)
    while frontier:
        node = frontier.pop()
        for succ, keyed in G._succ[node].items():
            if succ in seen:
                continue
            if node_ok is not None and not node_ok(succ):
                continue
            if edge_ok is None or any(edge_ok(d) for d in keyed.values()):
                seen.add(succ)
                frontier.append(succ)
    # Invariant: seen holds every allowed node with an allowed path from some source.
    return seen
