"""Name scopes as clusters, and collapsing them (``--collapse DEPTH``, or automatically).

Every drawn node gets a cluster path: its name scope, with the components that
name an op dropped, a function body's echo of its call dropped, and virtual
prefix groups inserted where one scope has more than :data:`FANOUT` child scopes
(``conv4_block7_0_bn``, ``conv4_block7_1_conv``... under ``conv4_block7*``).
Scopes deeper than the collapse depth are drawn as one node each. With no
``--collapse``, the depth is the deepest that keeps about ``max_nodes`` nodes,
and the picture says so. Clusters are named as the report names its layers.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .view import View

__all__ = ["Scopes", "plan_scopes", "scope_paths", "group_paths", "group_names", "count_at", "drop_echoes",
           "display_path", "component_label", "FANOUT"]

# More child scopes than this under one scope: group them by shared name prefix
# ("conv4_block7_0_bn", "conv4_block7_1_conv"... -> "conv4_block7_*").
FANOUT = 30


@dataclass
class Scopes:
    """The cluster path of every drawn node, and the depth below which scopes collapse.

    Attributes:
        paths: drawn node -> its cluster path.
        depth: scopes deeper than this are drawn as single nodes; None: fully expanded.
        note: the auto-collapse note, or None when nothing was collapsed automatically.
        total: how many nodes there would be fully expanded.
        open_scopes: scopes that stay open at any depth (a focus's own).
        layer_names: the report's layer names (and their parts), for cluster labels.
        keras: whether the target is a compiled Keras model (its top scopes are layers).
        loss: the loss node, never collapsed.
    """

    paths: dict[str, tuple[str, ...]]
    depth: int | None
    note: str | None
    total: int
    open_scopes: set
    layer_names: set[str]
    keras: bool
    loss: str

    def group_of(self, n: str) -> tuple[str, ...] | None:
        """The collapsed scope that stands for node ``n``, or None when ``n`` is drawn itself."""
        if self.depth is None or n == self.loss:
            return None
        p = self.paths[n]
        if len(p) > self.depth and p[: self.depth + 1] not in self.open_scopes:
            return p[: self.depth + 1]
        return None

    def layer_label(self, component: str, depth: int) -> str:
        """A scope's label, named as the table names its layer: ``bn1`` for the traced ``bn1_1``."""
        label = component_label(component)
        if label in self.layer_names:
            return label
        m = re.match(r"(.+)_\d+\Z", label)
        if m and (m.group(1) in self.layer_names or (depth == 0 and self.keras)):
            return m.group(1)
        return label


def plan_scopes(view: "View", *, collapse: int | None, max_nodes: int) -> Scopes:
    """The cluster paths of ``view``'s nodes and the collapse depth (``collapse``, else automatic)."""
    report = view.report
    paths = scope_paths(view.G, view.order, view.loss, view.by_node)
    n_total = len(view.order) + len(view.extra_vars)
    scopes = Scopes(paths=paths, depth=collapse, note=None, total=n_total, open_scopes=set(),
                    layer_names={part for v in report.variables if v.layer for part in v.layer.split("/")},
                    keras=report.kind == "keras", loss=view.loss)
    if collapse is not None:
        return scopes
    # A focus keeps the scopes of its own variables open; everything off them may collapse.
    if view.focus is not None:
        for node in view.by_node:
            p = paths.get(node, ())
            scopes.open_scopes.update(p[:i] for i in range(1, len(p) + 1))
    if n_total <= max_nodes:
        return scopes
    max_depth = max((len(p) for p in paths.values()), default=0)
    best = None
    for depth in range(max_depth - 1, -1, -1):
        count = count_at(paths, depth, scopes.open_scopes) + len(view.extra_vars)
        best = (depth, count)
        if count <= max_nodes:
            break
    if best is None:
        return scopes
    scopes.depth = best[0]
    scopes.note = (f"{n_total} nodes collapsed to depth {best[0]} ({best[1]} drawn); "
                   f"use --collapse/--focus to expand")
    return scopes


def scope_paths(G: Any, order: list[str], loss: str, variable_nodes: Any) -> dict[str, tuple[str, ...]]:
    """Cluster path per drawn node: its name scope, with op-named scopes dropped.

    Args:
        G: the analysis graph (nodes carry their ``scope``).
        order: the drawn nodes.
        loss: the loss node (drawn outside every cluster).
        variable_nodes: the nodes that show variables.
    """
    raw: dict[str, tuple[str, ...]] = {}
    memo: dict[str, str] = {}
    for n in order:
        if n == loss:
            raw[n] = ()
            continue
        s = G.nodes[n].get("scope", "") or ""
        start = s
        if start in memo:
            s = memo[start]
        else:
            # "matmul/ReadVariableOp" is the scope TF opens for an op's helpers,
            # not a name scope of the user's: drop components that name an op.
            while s and s in G:
                s = s.rpartition("/")[0]
            memo[start] = s
        raw[n] = drop_echoes(tuple(p for p in s.split("/") if p)) if s else ()
    # A scope that holds a variable's read and no drawn op of its own
    # ("dense/Cast/ReadVariableOp") is no scope worth a cluster: the
    # variable moves up to the nearest scope that draws an op.
    with_ops = set()
    for n, p in raw.items():
        if n not in variable_nodes:
            with_ops.update(p[:i] for i in range(1, len(p) + 1))
    for n in variable_nodes:
        p = raw.get(n)
        while p and p not in with_ops:
            p = p[:-1]
        if p is not None:
            raw[n] = p
    return group_paths(raw)


def drop_echoes(path: tuple[str, ...]) -> tuple[str, ...]:
    """Drop the scope a function body repeats from its call: ``cond[then]/cond/...`` -> ``cond[then]/...``.

    Examples:
        >>> drop_echoes(("cond[then]", "cond", "mul"))
        ('cond[then]', 'mul')
        >>> drop_echoes(("model", "dense"))
        ('model', 'dense')
    """
    if not any(c.endswith("]") for c in path):
        return path
    out: list[str] = []
    for c in path:
        if out:
            m = re.match(r"(?:.*/)?([^/\[]+)\[[^\]]*\]\Z", out[-1])
            if m and m.group(1) == c:
                continue
        out.append(c)
    return tuple(out)


def display_path(path: tuple[str, ...]) -> str:
    """A scope path as the user reads it: pass-through levels ("bn_1+") left out."""
    return "/".join(c for c in path if not c.endswith("+")) or (path[-1].rstrip("+") if path else "")


def component_label(component: str) -> str:
    """One path component as a cluster label: ``cond · then`` for a body ``cond[then]``."""
    component = component.rstrip("+")
    m = re.match(r"(.*)\[([^\]]*)\]\Z", component)
    if m:
        return f"{m.group(1)} · {m.group(2)}"
    return component


def count_at(paths: dict[str, tuple[str, ...]], depth: int, open_scopes: set = frozenset()) -> int:
    """How many nodes are drawn when scopes deeper than ``depth`` are collapsed (``open_scopes`` stay open)."""
    groups = set()
    count = 0
    for p in paths.values():
        if len(p) > depth and p[: depth + 1] not in open_scopes:
            groups.add(p[: depth + 1])
        else:
            count += 1
    return count + len(groups)


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[_\-]", name) if t] or [name]


def group_names(names: list[str], level: int = 0) -> dict[str, tuple[str, ...]]:
    """Virtual scopes for too many sibling scopes: names -> the virtual components above them.

    Examples:
        >>> g = group_names([f"conv{b}_block{i}_{j}" for b in (2, 3) for i in range(20) for j in range(2)])
        >>> g["conv2_block7_1"]
        ('conv2*', 'conv2_block7*')
        >>> group_names(["a", "b"])["a"]
        ()
    """
    result: dict[str, tuple[str, ...]] = {n: () for n in names}
    if len(names) <= FANOUT:
        return result
    toks = {n: _tokens(n) for n in names}
    longest = max(len(t) for t in toks.values())
    for cut in range(level + 1, longest):
        groups: "OrderedDict[str, list[str]]" = OrderedDict()
        alone = 0
        for n in names:
            t = toks[n]
            if len(t) > cut:
                groups.setdefault("_".join(t[:cut]) + "*", []).append(n)
            else:
                alone += 1
        if len(groups) == 1 and not alone:
            continue  # everyone shares this prefix: look one token further
        count = len(groups) + alone
        if count >= len(names) or (count > FANOUT and count > len(names) // 2):
            break
        for key, members in groups.items():
            if len(members) < 2:
                continue
            inner = group_names(members, cut)
            for m in members:
                result[m] = (key,) + inner[m]
        return result
    # No shared prefixes ("dense", "dense_1", ... "dense_39"): runs in natural order.
    ordered = sorted(names, key=_natural_key)
    chunks = min(FANOUT, -(-len(ordered) // 10))
    size = -(-len(ordered) // chunks)
    for i in range(0, len(ordered), size):
        run = ordered[i:i + size]
        key = f"{run[0]} … {run[-1]}*" if len(run) > 1 else None
        for m in run:
            result[m] = (key,) if key else ()
    return result


def _natural_key(name: str) -> tuple:
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", name))


def group_paths(raw: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Insert virtual prefix groups wherever a scope has more than FANOUT child scopes."""
    children: "dict[tuple[str, ...], list[str]]" = {}
    for p in raw.values():
        for i in range(len(p)):
            kids = children.setdefault(p[:i], [])
            if not kids or kids[-1] != p[i]:
                kids.append(p[i])
    virtual: dict[tuple[str, ...], dict[str, tuple[str, ...]]] = {}
    for parent, kids in children.items():
        unique = list(OrderedDict.fromkeys(kids))
        if len(unique) > FANOUT:
            groups = group_names(sorted(unique))
            # Balance the levels: a sibling left out of the prefix groups gets
            # pass-through levels ("bn_1+", never drawn as a cluster), so that one
            # collapse depth means one granularity across all of them.
            depth = max(len(extra) for extra in groups.values())
            virtual[parent] = {c: extra + (c + "+",) * (depth - len(extra)) for c, extra in groups.items()}
    if not virtual:
        return dict(raw)
    memo: dict[tuple[str, ...], tuple[str, ...]] = {(): ()}

    def augment(p: tuple[str, ...]) -> tuple[str, ...]:
        if p in memo:
            return memo[p]
        parent = p[:-1]
        extra = virtual.get(parent, {}).get(p[-1], ())
        out = augment(parent) + extra + (p[-1],)
        memo[p] = out
        return out

    return {n: augment(p) for n, p in raw.items()}
