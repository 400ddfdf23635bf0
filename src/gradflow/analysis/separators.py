"""The decisive cuts of a blocked variable: a smallest set of cuts separating it from the loss.

Every forward path of a blocked variable is cut somewhere, often more than
once: a frozen BERT backbone's weights meet the StopGradients inside each
LayerNormalization's moments, and then the user's own ``tf.stop_gradient`` on
the pooled output. Only the last one separates them from the loss: the
moments' StopGradient cuts one of many paths through a LayerNorm. The decisive
cuts are a minimum vertex cut between the variable and the loss in which only
cut ops may be removed (every other op is uncuttable), found with networkx's
max-flow / min-cut.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import networkx as nx

from .reach import backward_search, reached

__all__ = ["decisive_cuts", "Separators", "cut_owner"]

SKIPPED = frozenset({"custom_forward"})


def cut_owner(u: Hashable, v: Hashable, data: dict) -> Hashable | None:
    """The op a cut edge ``u -> v`` belongs to (None for an edge that is not cut).

    The consumer's, unless ``cut_at == "tail"`` (an integer result: its producer's).

    Examples:
        >>> cut_owner("round", "add", {"cut": "Round", "open": False})
        'add'
        >>> cut_owner("argmax", "add", {"cut": "int", "open": False, "cut_at": "tail"})
        'argmax'
        >>> cut_owner("a", "b", {"cut": None, "open": True}) is None
        True
    """
    if data.get("cut") is None or data.get("open"):
        return None
    return u if data.get("cut_at") == "tail" else v


def decisive_cuts(G: nx.MultiDiGraph, source: Hashable, target: Hashable, *,
                  prefer: Callable[[Hashable], int] | None = None,
                  ancestors: set | None = None) -> list:
    """A smallest set of cut ops that separates ``source`` from ``target``.

    Each cut op (see :func:`cut_owner`) has capacity 1; open edges and every
    other op are uncuttable. An edge neither open nor cut (a branch predicate,
    a loop condition) carries no gradient and is left out. Of the minimum cuts,
    the one nearest the source and the one nearest the target are computed
    (both come from one max-flow); ``prefer(op) -> int`` picks between them
    (the higher total wins; nearest the source on a tie).

    Args:
        ancestors: the nodes with a forward path to ``target``, when known.

    Returns:
        the cut ops, sorted; empty when ``source`` has an open path or no path.

    Examples:
        A frozen backbone: ``w`` reaches the loss through a LayerNorm whose
        moments are cut (``m``), and every path ends at the user's ``sg``::

            w ──> a ──> m ╳─> b ──> sg ╳─> loss
                  a ──────────> b

        >>> G = nx.MultiDiGraph()
        >>> for u, v, cut in [("w", "a", None), ("a", "m", "sg"), ("m", "b", None),
        ...                   ("a", "b", None), ("b", "sg", "sg"), ("sg", "loss", None)]:
        ...     _ = G.add_edge(u, v, cut=cut, open=cut is None)
        >>> decisive_cuts(G, "w", "loss")
        ['sg']
        >>> _ = G.add_edge("a", "loss", cut=None, open=True)
        >>> decisive_cuts(G, "w", "loss")
        []
    """
    keep = (ancestors if ancestors is not None else backward_search(G, target)) | {target}
    between = reached(G, [source]) & keep
    if source not in between or target not in between:
        return []
    H, owners = _cut_network(G, between)
    return _smallest_cut(H, owners, source, target, prefer)


class Separators:
    """:func:`decisive_cuts` for many variables and one loss, the network built once.

    Most blocked variables of a real model are separated from the loss by one
    cut (the user's ``tf.stop_gradient`` on a backbone's output): then the cut
    dominates the variable in the reversed network, and one dominator tree
    answers every such variable. A variable that needs two or more cuts gets
    the max-flow of :func:`decisive_cuts` on its part of the same network.

    Examples:
        >>> G = nx.MultiDiGraph()
        >>> for u, v, cut in [("w", "a", None), ("a", "m", "sg"), ("m", "b", None),
        ...                   ("a", "b", None), ("b", "sg", "sg"), ("sg", "loss", None)]:
        ...     _ = G.add_edge(u, v, cut=cut, open=cut is None)
        >>> Separators(G, "loss")("w")
        ['sg']
    """

    def __init__(self, G: nx.MultiDiGraph, target: Hashable, *, ancestors: set | None = None):
        keep = (ancestors if ancestors is not None else backward_search(G, target)) | {target}
        self.target = target
        self.H, self.owners = _cut_network(G, keep)
        self._idom: dict | None = None

    def __call__(self, source: Hashable, prefer: Callable[[Hashable], int] | None = None) -> list:
        H, target = self.H, self.target
        if source not in H or target not in H:
            return []
        if self._idom is None:
            self._idom = nx.immediate_dominators(H.reverse(copy=False), target)
        idom = self._idom
        if source not in idom or source == target:
            return []  # no path to the loss
        single, node = [], source
        while node != target:  # up the dominator tree: every cut all paths pass through
            node = idom[node]
            if isinstance(node, tuple) and node[0] == "cut-out":
                single.append(node[1])
        if single:
            return _choose([single[0]], [single[-1]], prefer)
        part = H.subgraph(nx.descendants(H, source) | {source})
        return _smallest_cut(part, {o for o in self.owners if ("cut-in", o) in part}, source, target, prefer)


def _cut_network(G: nx.MultiDiGraph, nodes: set) -> tuple[nx.DiGraph, set]:
    """The flow network over ``nodes``: open edges uncuttable, each cut op one edge of capacity 1."""
    H = nx.DiGraph()
    owners = set()
    succ = G._succ  # the raw dicts: this runs over every edge of the subgraph
    for u in nodes:
        for v, keyed in succ[u].items():
            if v not in nodes:
                continue
            for d in keyed.values():
                if d.get("via") in SKIPPED:
                    continue
                if d["open"]:
                    H.add_edge(u, v)
                    continue
                owner = cut_owner(u, v, d)
                if owner is None:
                    continue
                owners.add(owner)
                H.add_edge(u, ("cut-in", owner))
                H.add_edge(("cut-out", owner), v)
    for owner in owners:
        H.add_edge(("cut-in", owner), ("cut-out", owner), capacity=1)
    return H, owners


def _smallest_cut(H: nx.DiGraph, owners: set, source: Hashable, target: Hashable,
                  prefer: Callable[[Hashable], int] | None) -> list:
    if source not in H or target not in H or not nx.has_path(H, source, target):
        return []
    try:
        _, residual_sides = _min_cut_sides(H, source, target)
    except nx.NetworkXUnbounded:  # an open path: nothing separates them
        return []
    options = []
    for side in residual_sides:
        chosen = sorted((o for o in owners if (("cut-in", o) in side) != (("cut-out", o) in side)), key=str)
        options.append(chosen)
    return _choose(*options, prefer)


def _choose(near_source: list, near_target: list, prefer: Callable[[Hashable], int] | None) -> list:
    """Of the minimum cut nearest the source and the one nearest the target, the preferred (source on a tie)."""
    if prefer is not None and sum(map(prefer, near_target)) > sum(map(prefer, near_source)):
        return near_target
    return near_source


def _min_cut_sides(H: nx.DiGraph, source: Hashable, target: Hashable) -> tuple[int, tuple[set, set]]:
    """The cut value, and the source side of the minimum cut nearest the source and of the one nearest the target."""
    from networkx.algorithms.flow import edmonds_karp

    R = edmonds_karp(H, source, target, capacity="capacity")
    if R.graph["flow_value"] >= R.graph["inf"]:
        raise nx.NetworkXUnbounded("an open path")
    # Residual edges with spare capacity.
    spare = nx.DiGraph((u, v) for u, v, d in R.edges(data=True) if d["flow"] < d["capacity"])
    spare.add_nodes_from(R)
    near_source = {source} | nx.descendants(spare, source)
    near_target = set(R) - ({target} | nx.ancestors(spare, target))
    return R.graph["flow_value"], (near_source, near_target)
