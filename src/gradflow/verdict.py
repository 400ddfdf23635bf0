"""Stage 5: static facts + TensorFlow's gradients -> one verdict per variable.

TensorFlow decides whether a gradient exists (and the numbers decide zero or
non-finite); the graph explains. When the graph analysis disagrees with
TensorFlow, the verdict follows TensorFlow and the disagreement is recorded as
a mismatch (a gradflow bug, raised as :class:`AnalysisMismatch` in strict mode).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Sequence

import networkx as nx

from .analysis import PathCount, blockers_by_source, count_paths, forward_ancestors, open_ancestors, shields
from .analysis.reach import backward_search
from .autodiff import AutodiffResult, GradFacts
from .cuts import CutKind, is_stop_gradient_op
from .fixes import fix_for, written_at
from .report import Blocker, StopGradientReport, Status, VariableReport

__all__ = ["StaticFacts", "static_facts", "decide", "variable_reports", "stop_gradient_reports"]


@dataclass(frozen=True)
class StaticFacts:
    """What the graph says about one variable.

    Attributes:
        reads: a forward path leads from it to the loss.
        opens: a path of open edges leads to the loss (the graph's prediction
            that TensorFlow's gradient is a tensor).
        paths: forward paths and how many are cut.
        blockers: node ids of the ops that cut its paths.
        branch_only: every open path runs through a cond/switch_case branch.
        body_only: every open path runs through a cond/case/while/function body.
        zero_filled: its only open paths enter a ``tf.while_loop`` whose body
            drops it: TensorFlow's gradient is a tensor of zeros.
    """

    reads: bool
    opens: bool
    paths: PathCount
    blockers: tuple[str, ...]
    branch_only: bool = False
    body_only: bool = False
    zero_filled: bool = False


def _forward_ancestors(flow: Any) -> set:
    """The nodes with a forward path to the loss (kept in ``flow.memo``: several stages ask)."""
    if "forward_ancestors" not in flow.memo:
        flow.memo["forward_ancestors"] = forward_ancestors(flow.G, flow.loss)
    return flow.memo["forward_ancestors"]


def static_facts(flow: Any) -> dict[str, StaticFacts]:
    """Static facts for every variable node of ``flow``, by variable name."""
    G, loss = flow.G, flow.loss
    reaching = _forward_ancestors(flow)
    opening = open_ancestors(G, loss)
    nodes = flow.variables
    counts = count_paths(G, loss, nodes.values(), ancestors=reaching)
    carried = backward_search(G, loss, edge_ok=lambda d: d["open"] and d["via"] != "zero_fill")
    zero_filled = {n for n in nodes.values() if n in opening and n not in carried}
    blocked = [n for n in nodes.values() if (n in reaching and n not in opening) or n in zero_filled]
    partial = [n for n in nodes.values() if n in carried and counts[n].blocked > 0]
    gradient_reaching = backward_search(G, loss, edge_ok=lambda d: d.get("via") != "custom_forward")
    cuts = blockers_by_source(G, blocked, loss, reaching=gradient_reaching)
    # A variable that learns: its shape reads are no news.
    cuts.update(blockers_by_source(G, partial, loss, reaching=gradient_reaching, ignore=frozenset({CutKind.SHAPE_ONLY})))
    outside_branches = outside_bodies = None
    facts = {}
    for name, node in nodes.items():
        reads, opens, paths = node in reaching, node in opening, counts[node]
        blockers = tuple(cuts.get(node, ()))
        branch_only = False
        if opens:
            if outside_branches is None:
                outside_branches = backward_search(
                    G, loss, edge_ok=lambda d: d["open"], node_ok=lambda n: not G.nodes[n].get("in_branch")
                )
            branch_only = node not in outside_branches
        body_only = False
        if opens and blockers:
            if outside_bodies is None:
                outside_bodies = backward_search(  # a zero-filled loop input is no use outside
                    G, loss, edge_ok=lambda d: d["open"] and d["via"] != "zero_fill",
                    node_ok=lambda n: not G.nodes[n]["function"],
                )
            body_only = node not in outside_bodies
        facts[name] = StaticFacts(reads, opens, paths, blockers, branch_only, body_only, node in zero_filled)
    return facts


def decide(grad: GradFacts | None, facts: StaticFacts | None) -> Status:
    """The contract's status from TensorFlow's gradient (or, failing that, the graph).

    Examples:
        >>> decide(GradFacts(True), StaticFacts(True, False, PathCount(1, 1), ("sg",)))
        <Status.BLOCKED: 'blocked'>
        >>> decide(GradFacts(False, 0.0, True, True), None)
        <Status.ZERO: 'zero'>
    """
    reads = bool(facts and facts.reads)
    if grad is None:  # autodiff could not run: the graph's prediction stands in
        if facts is not None and facts.opens:
            return Status.FLOWS
        return Status.BLOCKED if reads else Status.DISCONNECTED
    if grad.is_none:
        return Status.BLOCKED if reads else Status.DISCONNECTED
    if grad.finite is False:
        return Status.NONFINITE
    if grad.all_zero:
        return Status.ZERO
    return Status.FLOWS


def _blocker(flow: Any, node: str, shielded: Sequence[str] = ()) -> Blocker:
    data = flow.G.nodes[node]
    cut = data["cut"]
    reason, kind = (cut.reason if cut else ""), (cut.kind if cut else "")
    loc = flow.location(node)
    return Blocker(op=node, type=data["type"], location=loc, reason=reason, kind=kind,
                   fix=fix_for(cut, data["type"], node, loc, shielded))


def _sort_key(b: Blocker) -> tuple:
    loc = b.location
    return (loc is None, loc.file if loc else "", loc.line if loc else 0, b.op)


def _why(status: Status, facts: StaticFacts | None, blockers: Sequence[Blocker], trainable: bool) -> str:
    def cuts_text() -> str:
        if not blockers:
            return ""
        located = [b for b in blockers if b.location is not None] or list(blockers)
        first = located[0]
        more = f" (+{len(blockers) - 1} more)" if len(blockers) > 1 else ""
        return f"{first.reason} at {first.where()}{more}"

    if status is Status.DISCONNECTED:
        return "the loss never reads it"
    if status is Status.BLOCKED:
        return cuts_text() or "every path to the loss is cut"
    if status is Status.NONFINITE:
        return "its gradient holds NaN or Inf on the example inputs"
    if status is Status.ZERO:
        if facts is not None and facts.branch_only:
            text = ("its gradient flows only through tf.cond/switch_case branches not taken on "
                    "these inputs; TensorFlow fills their gradient with zeros")
            return text + (f"; cut elsewhere: {cuts_text()}" if blockers else "")
        if facts is not None and facts.zero_filled:
            cut = f" (cut at {cuts_text()})" if blockers else ""
            return (f"zero, not None: a tf.while_loop body drops this loop variable{cut}, and "
                    "TensorFlow's while_loop gradient fills a dropped loop variable's gradient with zeros")
        if blockers and facts is not None and facts.body_only:
            return (f"zero, not None: its uses inside a tf.cond/while_loop body are cut ({cuts_text()}), "
                    "and TensorFlow fills a body's missing gradient with zeros")
        if blockers:
            return f"all-zero gradient on the example inputs; cut elsewhere: {cuts_text()}"
        return "its gradient is all zero on the example inputs (dead ReLU, tf.sign, a 0 factor...)"
    if facts is not None and facts.paths.blocked:
        # Partial blocking is news when the user wrote the cut; cuts inside a
        # library (Keras's own moments, say) are by design and stay in the JSON.
        p = facts.paths
        if any(b.location is not None for b in blockers):
            return f"{p.blocked} of {p.total} paths cut: {cuts_text()}"
    return ""


def expectation(status: Status, trainable: bool, blockers: Sequence[Blocker],
                shielded_by: Sequence[str] = ()) -> tuple[bool | None, str]:
    """Is it expected that this variable does not learn? ``(None, "")`` when it does.

    Expected: non-trainable variables (BatchNorm moving statistics, counters,
    seed state) and variables all of whose paths are cut by one
    ``tf.stop_gradient`` the user wrote (a frozen teacher or target network).
    A head the loss does not use is the classic mistake: never expected while
    trainable.

    Examples:
        >>> expectation(Status.FLOWS, True, ())
        (None, '')
        >>> expectation(Status.DISCONNECTED, False, ())[0]
        True
        >>> expectation(Status.DISCONNECTED, True, ())[0]
        False
    """
    if status is Status.FLOWS:
        return None, ""
    if not trainable:
        return True, ("not trainable: it is not meant to learn from the gradient "
                      "(BatchNorm moving statistics, a counter, seed state)")
    if status is Status.BLOCKED:
        # One tf.stop_gradient of the user's: one line, though it may have made
        # several ops (one per replica of a tf.distribute strategy, one per
        # turn of a Python loop).
        b = blockers[0] if blockers else None
        if (b is not None and all(c.kind == CutKind.STOP_GRADIENT and c.location == b.location for c in blockers)
                and written_at(b.location, "stop_gradient")):
            return True, (f"frozen on purpose: every path to the loss is cut by the tf.stop_gradient at "
                          f"{b.where()} (a teacher or target network)")
        first = next((b for b in blockers if b.location is not None), blockers[0] if blockers else None)
        where = f" ({first.reason} at {first.where()})" if first else ""
        return False, f"trainable, but every path to the loss is cut{where}"
    if status is Status.DISCONNECTED:
        return False, "trainable, but the loss never reads it: an unused head or layer is the classic mistake"
    if status is Status.ZERO:
        return False, "trainable, but its gradient is all zero on the example inputs"
    return False, "trainable, but its gradient holds NaN or Inf"


def variable_reports(
    refs: Sequence[Any], flow: Any, autodiff: AutodiffResult
) -> tuple[tuple[VariableReport, ...], tuple[str, ...]]:
    """One :class:`VariableReport` per variable, plus the mismatches found."""
    facts = static_facts(flow)
    shielded = _stop_gradient_shields(flow, facts)
    reports, mismatches = [], []

    @functools.cache
    def blocker(node: str) -> Blocker:  # one per cut op, however many variables it blocks
        return _blocker(flow, node, shielded.get(node, ()))

    for ref in refs:
        f = facts.get(ref.name)
        grad = autodiff.grads.get(ref.name) if autodiff.error is None else None
        status = decide(grad, f)
        predicted = bool(f and f.opens)
        if grad is not None and predicted == grad.is_none:
            tf_says = "None" if grad.is_none else "a tensor"
            mismatches.append(
                f"{ref.name}: TensorFlow's gradient is {tf_says}, but gradflow's graph analysis "
                f"predicted {'a tensor' if predicted else 'None'}"
            )
        blockers = tuple(sorted((blocker(n) for n in (f.blockers if f else ())), key=_sort_key))
        grad_norm = grad.norm if grad is not None and not grad.is_none else None
        expected, expected_reason = expectation(status, ref.trainable, blockers)
        reports.append(
            VariableReport(
                name=ref.name,
                shape=ref.shape,
                dtype=ref.dtype,
                trainable=ref.trainable,
                status=status,
                grad_norm=grad_norm,
                paths=f.paths if f else PathCount(0, 0),
                blockers=blockers,
                why=_why(status, f, blockers, ref.trainable),
                node=flow.variables.get(ref.name),
                created_at=ref.created_at,
                tracked=ref.tracked,
                expected=expected,
                expected_reason=expected_reason,
            )
        )
    return tuple(reports), tuple(mismatches)


def _shielded_by_stops(flow: Any) -> dict[str, tuple[str, ...]]:
    """Every StopGradient node -> the variables all of whose paths to the loss it cuts.

    One post-dominator tree serves the verdicts and the StopGradient inventory,
    so it is kept in ``flow.memo``.
    """
    if "stop_shields" not in flow.memo:
        G = flow.G
        by_node = {node: name for name, node in flow.variables.items()}
        order = {node: i for i, node in enumerate(by_node)}
        stops = [node for node, data in G.nodes(data=True) if is_stop_gradient_op(data["type"])]
        found = shields(G, stops, list(by_node), flow.loss, ancestors=_forward_ancestors(flow))
        flow.memo["stop_shields"] = {
            node: tuple(by_node[n] for n in sorted(found[node], key=order.__getitem__)) for node in stops
        }
    return flow.memo["stop_shields"]


def _stop_gradient_shields(flow: Any, facts: dict[str, StaticFacts]) -> dict[str, tuple[str, ...]]:
    """StopGradient blocker node -> the variables it shields (or, failing that, that it blocks)."""
    shielded = _shielded_by_stops(flow)
    blocks: dict[str, list[str]] = {}  # cut node -> the blocked variables it cuts
    for name, f in facts.items():
        if not f.opens:
            for node in f.blockers:
                blocks.setdefault(node, []).append(name)
    return {node: names or tuple(blocks.get(node, ())) for node, names in shielded.items()}


def stop_gradient_reports(flow: Any) -> tuple[StopGradientReport, ...]:
    """Every StopGradient op, with the variables all of whose paths it cuts."""
    out = [StopGradientReport(op=node, location=flow.location(node), shields=names)
           for node, names in _shielded_by_stops(flow).items()]
    return tuple(sorted(out, key=lambda s: _sort_key(Blocker(s.op, "", s.location, "", ""))))
