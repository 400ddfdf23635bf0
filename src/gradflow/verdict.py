"""Stage 5: static facts + TensorFlow's gradients -> one verdict per variable.

TensorFlow decides whether a gradient exists (and the numbers decide zero or
non-finite); the graph explains. When the graph analysis disagrees with
TensorFlow, the verdict follows TensorFlow and the disagreement is recorded as
a mismatch (a gradflow bug, raised as :class:`AnalysisMismatch` in strict mode).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, Sequence

from .analysis import (PathCount, Separators, blockers_by_source, count_paths, forward_ancestors,
                       open_ancestors, shields)
from .analysis.reach import backward_search
from .autodiff import AutodiffResult, GradFacts
from .fixes import fix_for, library_wording
from .sources import Origin, called_api, op_origin
from .cuts import CutKind, is_stop_gradient_op
from .schema import Blocker, StopGradientReport, Status, VariableReport, untrainable_kind

__all__ = ["StaticFacts", "static_facts", "decide", "variable_reports", "stop_gradient_reports", "with_numeric_cause"]


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


def op_origin_of(flow: Any, node: str) -> tuple[str | None, str | None]:
    """``(origin, call)`` of ``node``'s op: who made it, and for a library op, the API the user called.

    Read from the op's creation stack once, and kept on the node.
    """
    data = flow.G.nodes[node]
    if "origin" not in data:
        origin = call = None
        op = flow.ops.get(node)
        resolver = flow.resolver
        if op is not None and resolver is not None and data.get("location", True) is not None:
            try:
                frames = list(op.traceback)
            except Exception:  # noqa: BLE001 - ops rebuilt from a FunctionDef have none
                frames = []
            if frames:
                origin = op_origin(frames, resolver._autograph_origin)
                if Origin.is_library(origin):
                    call = called_api(frames, data.get("name", node))
        data["origin"], data["call"] = origin, call
    return data["origin"], data["call"]


def _blocker(flow: Any, node: str, shielded: Sequence[str] = ()) -> Blocker:
    data = flow.G.nodes[node]
    cut = data["cut"]
    reason, kind = (cut.reason if cut else ""), (cut.kind if cut else "")
    loc = flow.location(node)
    origin, call = op_origin_of(flow, node)
    if Origin.is_library(origin):
        reason, fix = library_wording(call, origin, kind, data["type"], reason)
    else:
        fix = fix_for(cut, data["type"], node, loc, shielded, origin=origin)
    return Blocker(op=node, type=data["type"], location=loc, reason=reason, kind=kind, fix=fix,
                   origin=origin, call=call)


def _sort_key(b: Blocker) -> tuple:
    loc = b.location
    return (not b.decisive, loc is None, loc.file if loc else "", loc.line if loc else 0, b.op)


def _why(status: Status, facts: StaticFacts | None, blockers: Sequence[Blocker], trainable: bool,
         what: str = "") -> str:
    """Why: the decisive cuts first (blockers come sorted so); a flowing variable names user cuts only."""
    def cuts_text(chosen: Sequence[Blocker] | None = None) -> str:
        chosen = list(blockers if chosen is None else chosen)
        if not chosen:
            return ""
        decisive = [b for b in chosen if b.decisive]
        if not decisive:
            decisive = [([b for b in chosen if b.location is not None] or chosen)[0]]
        # One line per call of the user's: a Poisson sample's eleven internal cuts are one.
        lines = list(dict.fromkeys(b.headline() for b in decisive))
        others = len(dict.fromkeys(b.headline() for b in chosen)) - len(lines)
        shown = lines[:2]
        more = len(lines) - len(shown) + others
        return "; ".join(shown) + (f" (+{more} more)" if more > 0 else "")

    if what:  # an expected variable says what it is
        if status is Status.BLOCKED and blockers and trainable:
            return cuts_text()
        return what

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
        mine = [b for b in blockers if b.is_users]
        if mine:
            return f"{p.blocked} of {p.total} paths cut: {cuts_text(mine)}"
    return ""


def describe_untrainable(name: str, others: Sequence[str] = (), layer_class: str | None = None) -> str:
    """What a non-trainable variable is: the ``why`` of an expected variable (see :func:`untrainable_kind`).

    Examples:
        >>> describe_untrainable("bn/moving_mean")
        'BatchNormalization moving statistic: updated by assign, not by a gradient'
        >>> describe_untrainable("dropout/seed_generator_state")
        'random-number seed state: advanced by assign, not by a gradient'
        >>> describe_untrainable("dense/kernel", ["dense/lora_kernel_a", "dense/kernel"])
        'base kernel frozen by LoRA (enable_lora): lora_kernel_a and lora_kernel_b learn instead'
    """
    return untrainable_kind(name, layer_class=layer_class, others=others).why


def expectation(status: Status, trainable: bool, blockers: Sequence[Blocker],
                shielded_by: Sequence[str] = (), *, name: str = "", others: Sequence[str] = (),
                layer_class: str | None = None) -> tuple[bool | None, str]:
    """Is it expected that this variable does not learn? ``(None, "")`` when it does.

    Expected: non-trainable variables (BatchNorm moving statistics, counters,
    seed state, a layer frozen with ``trainable = False``) and variables whose
    decisive cuts are all the user's own ``tf.stop_gradient`` (a frozen teacher
    or target network). Decided from the cuts' origin (the op's creation stack),
    never from how the source is formatted. A head the loss does not use is the
    classic mistake: never expected while trainable.

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
        return True, f"not trainable: {describe_untrainable(name, others, layer_class)}" if name else (
            "not trainable: it is not meant to learn from the gradient "
            "(BatchNorm moving statistics, a counter, seed state)")
    if status is Status.BLOCKED:
        known = any(b.decisive is not None for b in blockers)
        decisive = [b for b in blockers if b.decisive] if known else list(blockers)
        if decisive and all(b.kind == CutKind.STOP_GRADIENT and b.origin in (Origin.USER, None) for b in decisive) \
                and all(b.is_users for b in decisive):
            where = ", ".join(sorted({b.where() for b in decisive}))
            return True, (f"frozen on purpose: every path to the loss is cut by the tf.stop_gradient at "
                          f"{where} (a teacher or target network)")
        first = decisive[0] if decisive else None
        where = f" ({first.headline()})" if first else ""
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
    names = [ref.name for ref in refs]
    reaching = _forward_ancestors(flow)

    def users_first(node: str) -> int:
        return 1 if op_origin_of(flow, node)[0] == Origin.USER else 0

    separators = None

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
        cut_nodes = list(f.blockers if f else ())
        decisive: list = []
        if status is Status.BLOCKED and f is not None and f.reads and ref.name in flow.variables:
            if separators is None:  # built once, for the first blocked variable
                separators = Separators(flow.G, flow.loss, ancestors=reaching)
            decisive = separators(flow.variables[ref.name], prefer=users_first)
            cut_nodes += [n for n in decisive if n not in cut_nodes]
        found = [dataclasses.replace(blocker(n), decisive=n in decisive) if status is Status.BLOCKED else blocker(n)
                 for n in cut_nodes]
        if status is Status.FLOWS and not any(b.is_users for b in found):
            # It learns, and only a library's own cuts (BatchNorm's moments) cut some of
            # its paths: by design, counted in ``paths`` and listed in ``stop_gradients``.
            found = []
        blockers = tuple(sorted(found, key=_sort_key))
        grad_norm = grad.norm if grad is not None and not grad.is_none else None
        layer_class = getattr(ref, "layer_class", None)
        expected, expected_reason = expectation(status, ref.trainable, blockers, name=ref.name, others=names,
                                                layer_class=layer_class)
        what = ""
        if expected:
            # Not meant to learn (not trainable, or frozen by the user's own
            # tf.stop_gradient): no fix. A non-trainable variable's why says
            # what it is; a frozen one's names the cut, listed under "cuts you
            # wrote", where a freeze on the wrong tensor is seen.
            blockers = tuple(dataclasses.replace(b, fix="") for b in blockers)
            if not ref.trainable:
                what = describe_untrainable(ref.name, names, layer_class)
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
                why=_why(status, f, blockers, ref.trainable, what),
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
    out = [StopGradientReport(op=node, location=flow.location(node), shields=names,
                              origin=op_origin_of(flow, node)[0])
           for node, names in _shielded_by_stops(flow).items()]
    return tuple(sorted(out, key=lambda s: _sort_key(Blocker(s.op, "", s.location, "", ""))))


def with_numeric_cause(v: VariableReport, cause: Any) -> VariableReport:
    """``v`` with its numeric cause (a zero or non-finite gradient located), which then leads its ``why``."""
    if cause is None:
        return v
    where = cause.location or cause.op
    if cause.reason.startswith(cause.type + " "):  # "MatMul with lora_kernel_b, which is all zero"
        why = f"{cause.reason} (at {where})"
    else:
        why = f"{cause.type} at {where}: {cause.reason}" if cause.reason else f"{cause.type} at {where}"
    return dataclasses.replace(v, numeric_cause=cause, why=why)
