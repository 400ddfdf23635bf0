"""Where does the gradient die? Every cut decision of gradflow lives here.

For an op on a forward path, TensorFlow's backprop (``gradients_util``) calls
the op's registered gradient function with the gradients of its outputs; the
input gradients it returns as ``None`` are where the gradient dies. gradflow
asks the same question the same way: it looks the op up in the registry and,
when there is a gradient function, calls it on stand-in output gradients and
reads which inputs come back ``None``. No table of op types decides anything
here; the op type is only used to word the reason.

The edge rules are here too (:func:`annotate_cuts`): an integer tensor out of
an op the gradient reaches dies at its producer; a function-call op or a body
argument passes the gradient on every data edge (its body is inlined and
probed op by op); the forward result into a ``tf.custom_gradient`` carries
none (the custom function replaces its gradient).

A probe adds ops to the op's graph, so it must run after autodiff has built
its backward functions from that graph.
"""

from __future__ import annotations

import functools

from dataclasses import dataclass
from typing import Any

from .schema import CutKind

# Ops whose result is metadata of their input (its shape), never its values. Used
# only to word the reason and to keep shape reads out of path counts; whether
# the gradient dies is still TensorFlow's answer.
SHAPE_OPS = frozenset({"Shape", "ShapeN", "Rank", "Size", "VariableShape", "TensorListLength",
                       "TensorListElementShape", "TensorArraySizeV3"})
STOP_GRADIENT_OP = "StopGradient"

__all__ = ["Cut", "CutKind", "SHAPE_OPS", "probe_op", "is_backpropagatable", "custom_gradient_name", "ProbeCache",
           "annotate_cuts", "input_via", "integer_edge_cut", "is_stop_gradient_op", "is_custom_gradient_op"]


@dataclass(frozen=True)
class Cut:
    """Why the gradient dies at one input of one op.

    Attributes:
        kind: which rule cut it (a :class:`CutKind`; a plain string is converted).
        reason: the reason in words, for reports.
        op_type: the type of the op where it dies.
        dtype: the integer dtype that carries no gradient, or a cast's target dtype.
        custom_gradient: the user's ``tf.custom_gradient`` function behind the op.
        variable: the op is an integer variable (its values cannot learn).
    """

    kind: CutKind
    reason: str
    op_type: str = ""
    dtype: str = ""
    custom_gradient: str | None = None
    variable: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.kind, CutKind):
            object.__setattr__(self, "kind", CutKind(self.kind))


def is_stop_gradient_op(op_type: str | None) -> bool:
    """An op of ``tf.stop_gradient`` (the cut a user writes on purpose)."""
    return op_type == STOP_GRADIENT_OP


def is_backpropagatable(dtype: Any) -> bool:
    """Mirrors ``gradients_util._IsBackpropagatable``: float, complex, resource, variant, bfloat16."""
    return _backpropagatable(dtype if isinstance(dtype, str) else dtype.base_dtype.name)


@functools.lru_cache(maxsize=None)
def _backpropagatable(name: str) -> bool:
    from tensorflow.python.eager import backprop_util
    from tensorflow.python.framework import dtypes

    dtype = dtypes.as_dtype(name)
    return backprop_util.IsTrainable(dtype) or dtype.base_dtype == dtypes.bfloat16


def custom_gradient_name(op: Any) -> str | None:
    """The user's function behind a ``tf.custom_gradient`` op, e.g. ``'quantize'``."""
    from tensorflow.python.framework import ops

    try:
        name = op.get_attr("_gradient_op_type").decode()
        fn = ops.gradient_registry.lookup(name)
    except (ValueError, LookupError, AttributeError):
        return None
    # internal_grad_fn -> tape_grad_fn -> the user's grad_fn (closures in custom_gradient.py)
    frontier = [fn]
    for _ in range(3):
        nxt = []
        for f in frontier:
            for cell in getattr(f, "__closure__", None) or ():
                try:
                    value = cell.cell_contents
                except ValueError:
                    continue
                if callable(value) and not (getattr(value, "__module__", None) or "").startswith("tensorflow"):
                    qual = getattr(value, "__qualname__", "") or getattr(value, "__name__", "")
                    return qual.split(".<locals>")[0] if ".<locals>" in qual else qual
                if callable(value) and hasattr(value, "__closure__"):
                    nxt.append(value)
        frontier = nxt
    return None


def is_custom_gradient_op(op: Any) -> bool:
    """A ``tf.custom_gradient`` call: the ``IdentityN`` it wraps with its own gradient type."""
    if op.type != "IdentityN":  # custom_gradient always overrides an identity_n (custom_gradient.py)
        return False
    try:
        return op.get_attr("_gradient_op_type").decode().startswith("CustomGradient")
    except (ValueError, AttributeError):
        return False


def _signature(op: Any) -> tuple:
    attrs = tuple(
        sorted(
            (key, value.SerializeToString(deterministic=True))
            for key, value in op.node_def.attr.items()
            if not key.startswith("_") or key == "_gradient_op_type"
        )
    )
    return (
        op.type,
        tuple(t.dtype.name for t in op.inputs),
        tuple(t.dtype.name for t in op.outputs),
        attrs,
    )


class ProbeCache:
    """Memoises probes of ops that only differ in their inputs' values.

    A gradient function's None-ness depends on the op's type, attributes and
    dtypes, so a 6,000-op DenseNet needs a few dozen real probes. Custom
    gradients have a unique gradient type per call and are never shared.
    """

    def __init__(self) -> None:
        self._results: dict[tuple, tuple[Cut | None, ...]] = {}
        self.errors: dict[str, str] = {}

    def probe(self, op: Any) -> tuple[Cut | None, ...]:
        if is_custom_gradient_op(op):
            return probe_op(op, errors=self.errors)
        key = _signature(op)
        if key not in self._results:
            self._results[key] = probe_op(op, errors=self.errors)
        return self._results[key]


def probe_op(op: Any, *, errors: dict[str, str] | None = None) -> tuple[Cut | None, ...]:
    """For each input of ``op``: the :class:`Cut` where the gradient dies there, or None.

    Args:
        op: a ``tf.Operation`` (not a function-call op: gradflow looks inside those).
        errors: where to record ops whose gradient function could not be probed
            (they are then assumed to pass the gradient; autodiff has the last word).
    """
    from tensorflow.python.framework import ops

    n = len(op.inputs)
    try:
        grad_fn = ops.get_gradient_function(op)
    except LookupError:
        cut = Cut(CutKind.NO_GRADIENT, f"no gradient is registered for {op.type} (tape.gradient raises LookupError)",
                  op.type)
        return (cut,) * n
    if grad_fn is None:
        return (_not_differentiable(op),) * n
    trainable_outputs = [is_backpropagatable(t.dtype) for t in op.outputs]
    if op.outputs and not any(trainable_outputs):
        return (_integer_output(op),) * n
    if op.type in SHAPE_OPS:  # registered gradients of shape ops return None: say why
        return (_not_differentiable(op),) * n
    try:
        in_grads = _call_gradient_function(op, grad_fn, trainable_outputs)
    except LookupError as exc:
        cut = Cut(CutKind.PREVENT_GRADIENT, f"{op.type} forbids backprop: {_short(str(exc))}", op.type)
        return (cut,) * n
    except Exception as exc:  # noqa: BLE001 - any failure means "could not probe"
        if errors is not None:
            errors[op.name] = f"{type(exc).__name__}: {_short(str(exc))}"
        return (None,) * n
    result = []
    for i in range(n):
        grad = in_grads[i] if i < len(in_grads) else None
        result.append(None if grad is not None else _none_gradient(op, i))
    return tuple(result)


def _call_gradient_function(op: Any, grad_fn: Any, trainable_outputs: list[bool]) -> list:
    from tensorflow.python.ops import array_ops, default_gradient

    with op.graph.as_default(), op.graph.name_scope("gradflow_probe"):
        out_grads = [
            array_ops.placeholder(default_gradient.get_zeros_dtype(t), shape=t.shape if trainable else None)
            if trainable
            else None
            for t, trainable in zip(op.outputs, trainable_outputs)
        ]
        in_grads = grad_fn(op, *out_grads)
    if not isinstance(in_grads, (list, tuple)):
        in_grads = [in_grads]
    return list(in_grads)


def _not_differentiable(op: Any) -> Cut:
    if op.type in SHAPE_OPS:
        return Cut(CutKind.SHAPE_ONLY, f"{op.type} reads only the shape of this tensor, not its values", op.type)
    if is_stop_gradient_op(op.type):
        return Cut(CutKind.STOP_GRADIENT, "tf.stop_gradient", op.type)
    if op.type in ("PyFunc", "PyFuncStateless"):
        return Cut(CutKind.NOT_DIFFERENTIABLE, "tf.numpy_function has no gradient", op.type)
    return Cut(CutKind.NOT_DIFFERENTIABLE, f"{op.type} has no gradient", op.type)


def _integer_output(op: Any) -> Cut:
    out = op.outputs[0].dtype.name
    if op.type in SHAPE_OPS:
        return _not_differentiable(op)
    if op.type == "Cast":
        return Cut(CutKind.INTEGER_OUTPUT, f"cast to {out} is not differentiable", op.type, out)
    if op.inputs and op.inputs[0].dtype.name == "resource":
        return Cut(CutKind.INTEGER_OUTPUT, f"the variable is {out}: integer values carry no gradient", op.type, out,
                   variable=True)
    return Cut(CutKind.INTEGER_OUTPUT, f"{op.type} has no gradient (its result is {out})", op.type, out)


def _none_gradient(op: Any, i: int) -> Cut:
    if is_custom_gradient_op(op):
        name = custom_gradient_name(op) or "custom_gradient"
        return Cut(CutKind.CUSTOM_GRADIENT, f"custom gradient '{name}' returns None for this input", op.type,
                   custom_gradient=name)
    if op.type == "Cast":
        src, dst = op.inputs[0].dtype.name, op.outputs[0].dtype.name
        return Cut(CutKind.NONE_GRADIENT, f"cast from {src} to {dst} is not differentiable", op.type, dst)
    if len(op.inputs) > 1:
        return Cut(CutKind.NONE_GRADIENT, f"{op.type}'s gradient is None for input {i}", op.type)
    return Cut(CutKind.NONE_GRADIENT, f"{op.type}'s gradient is None", op.type)


# -- edge rules ------------------------------------------------------------------

def input_via(op: Any, i: int) -> str:
    """How input ``i`` of ``op`` feeds it: ``shape`` (read for its shape alone),
    ``custom_forward`` (the forward result into a ``tf.custom_gradient``, whose
    gradient the custom function replaces) or ``data``."""
    if is_custom_gradient_op(op) and i < len(op.outputs) and op.outputs[i].consumers():
        return "custom_forward"
    return "shape" if op.type in SHAPE_OPS else "data"


def integer_edge_cut(tail_type: str, tail_is_variable: bool, dtype: str) -> Cut:
    """The cut of an integer tensor out of an op the gradient reaches (attributed to that op).

    Examples:
        >>> integer_edge_cut("TopKV2", False, "int32").reason
        'TopKV2 gives int32 here, which carries no gradient'
        >>> integer_edge_cut("VarHandleOp", True, "int64").variable
        True
    """
    if tail_is_variable:
        reason = f"the variable is {dtype}: integer values carry no gradient"
    else:
        reason = f"{tail_type} gives {dtype} here, which carries no gradient"
    return Cut(CutKind.INTEGER_OUTPUT, reason, tail_type, dtype, variable=tail_is_variable)


def _is_integer_edge(data: dict, tail_reached: bool) -> bool:
    """An integer tensor out of an op the gradient reaches: the path dies at its producer."""
    return not data["backprop"] and tail_reached and data["via"] != "custom_forward"


def _call_edge_open(data: dict) -> bool:
    """Into a call op or a body argument: open but for predicates (the body is probed op by op)."""
    return data["via"] != "pred"


def annotate_cuts(flow: Any, ops: dict[str, Any], *, cache: ProbeCache | None = None) -> None:
    """Mark every edge of ``flow`` (a :class:`~gradflow.flowgraph.FlowGraph`) ``open`` or ``cut``.

    Probes TensorFlow's gradient functions of the ops between a variable and
    the loss; every other edge stays closed. Must run after autodiff (a probe
    adds ops to the op's graph).
    """
    from .analysis import forward_ancestors, reached

    G = flow.G
    cache = cache or ProbeCache()
    sources = set(flow.variables.values())
    forward = reached(G, sources)
    between = forward & (forward_ancestors(G, flow.loss) | {flow.loss})
    pred = G._pred  # the raw dicts: the views cost a call per lookup
    for nid in sorted(between):
        node = G.nodes[nid]
        incoming = [(u, k, d) for u, keyed in pred[nid].items() for k, d in keyed.items()]
        for u, k, d in incoming:
            if _is_integer_edge(d, u in forward):
                # top_k's indices, an int variable, ...: attributed to the tail, not the head.
                tail = G.nodes[u]
                d["cut"] = integer_edge_cut(tail["type"], tail["role"] == "variable", d["dtype"])
                d["cut_at"] = "tail"
                tail["cut"] = tail["cut"] or d["cut"]
        in_edges = [(u, k, d) for u, k, d in incoming if d["backprop"]]
        if not in_edges:
            continue
        if node["role"] in ("call", "arg"):
            for u, k, d in in_edges:
                d["open"] = _call_edge_open(d)
            continue
        op = ops[nid]
        cuts = cache.probe(op)
        for u, k, d in in_edges:
            if d["via"] == "custom_forward":
                continue
            slot = _dst_slot(k)
            cut = cuts[slot] if slot is not None and slot < len(cuts) else None
            if cut is None:
                d["open"] = True
            else:
                d["cut"] = cut
                node["cut"] = node["cut"] or cut
    flow.probe_errors.update(cache.errors)


def _dst_slot(key: str) -> int | None:
    """The destination input slot of an edge key ``"<src>:<dst>"``."""
    dst = key.rpartition(":")[2]
    return int(dst) if dst.isdigit() else None


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
