"""Which nodes reach the loss: forward at all, and along edges the gradient passes.

``forward_ancestors`` is the "between" test of ``gradients_util`` read
backwards: a node reaches the loss when some chain of tensors links them.
``open_ancestors`` keeps only edges where the gradient passes back, so a
variable in it is exactly one whose gradient TensorFlow computes as a tensor.
"""

from __future__ import annotations

from collections.abc import Hashable

import networkx as nx

__all__ = ["forward_ancestors", "open_ancestors", "open_subgraph"]


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


def forward_ancestors(G: nx.MultiDiGraph, target: Hashable) -> set:
    """Every node with a forward path (any edge) to ``target``.

    Examples:
        >>> G = nx.MultiDiGraph([("w", "sg"), ("sg", "loss"), ("u", "assign")])
        >>> sorted(forward_ancestors(G, "loss"))
        ['sg', 'w']
    """
    return nx.ancestors(G, target)


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
    return nx.ancestors(open_subgraph(G), target)
