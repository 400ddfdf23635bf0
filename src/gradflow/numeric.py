"""Where the numbers go wrong: the loss's value, its first non-finite op, and numeric causes.

TensorFlow computes everything here, on the example inputs: the forward
values of the traced graph's tensors, and (``tf.gradients`` in the same graph)
the gradients of the loss with respect to the intermediate tensors on a
variable's paths. gradflow then walks from the loss towards the variable and
names the first op whose output gradient is non-zero and finite but whose
gradient towards the variable is not: a dead ReLU, a product with an all-zero
factor (LoRA's ``lora_kernel_b`` at step 0), ``sqrt`` at 0.

Only top-level ops of the traced graph are evaluated (not the insides of
``tf.cond`` / ``tf.while_loop`` bodies); where nothing is found the cause stays
unnamed.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .autodiff import one_run_config
from .schema import LossValue, OpRef

__all__ = ["loss_value", "numeric_causes"]

MAX_FETCH = 4000  # tensors evaluated at once; larger graphs are not searched


def _runner(trace: Any) -> Callable[[list], list] | None:
    """A function evaluating tensors of ``trace.graph`` on the example inputs (None when it cannot)."""
    import tensorflow as tf

    if trace.target.kind == "tf1":
        if trace.target.origin == "graphdef":
            return None

        def run_session(fetches: list) -> list:
            graph = trace.graph
            with graph.as_default():
                init = [v.initializer for v in tf.compat.v1.global_variables() + tf.compat.v1.local_variables()]
                tables = tf.compat.v1.tables_initializer()
            with tf.compat.v1.Session(graph=graph, config=one_run_config()) as session:
                session.run([tables] + init, feed_dict=trace.feed)
                return session.run(fetches, feed_dict=trace.feed)

        return run_session
    concrete = getattr(trace, "concrete", None)
    if concrete is None:
        return None
    from tensorflow.python.eager import wrap_function

    graph = trace.graph
    specs = tf.nest.flatten(concrete.structured_input_signature, expand_composites=True)
    values = tf.nest.flatten((tuple(trace.call_args), dict(trace.call_kwargs)), expand_composites=True)
    if len(specs) != len(values):
        return None
    flat = [tf.convert_to_tensor(v) for s, v in zip(specs, values) if isinstance(s, tf.TypeSpec)]
    feeds = list(graph.inputs[:len(graph.inputs) - len(concrete.captured_inputs)])
    if len(feeds) != len(flat):
        return None
    wrapped = wrap_function.WrappedFunction(graph, variable_holder=wrap_function.VariableHolder(share_variables=True))

    def run_pruned(fetches: list) -> list:
        pruned = wrapped.prune(feeds=feeds, fetches=list(fetches))
        return [t.numpy() if hasattr(t, "numpy") else t for t in pruned(*flat)]

    return run_pruned


def _finite(value: Any) -> bool:
    import numpy as np

    array = np.asarray(value)
    return not np.issubdtype(array.dtype, np.inexact) or bool(np.all(np.isfinite(array)))


def _good(value: Any) -> bool:
    import numpy as np

    return value is not None and _finite(value) and bool(np.any(np.asarray(value)))


def _float_outputs(op: Any) -> list:
    return [t for t in op.outputs if t.dtype.is_floating]


def loss_value(trace: Any, flow: Any, value: float | None) -> LossValue | None:
    """The loss on the example inputs, and where it first turned NaN or Inf."""
    import math

    if value is None:
        return None
    if math.isfinite(value):
        return LossValue(value=value, finite=True)
    first = None
    try:
        first = _first_nonfinite(trace, flow)
    except Exception:  # noqa: BLE001 - the search is an explanation; the value stands without it
        first = None
    return LossValue(value=None, finite=False, first_nonfinite=first)


def _first_nonfinite(trace: Any, flow: Any) -> OpRef | None:
    run = _runner(trace)
    if run is None:
        return None
    graph = trace.graph
    needed = _ancestors_in_graph(trace.loss.op)
    ops = [op for op in graph.get_operations() if op in needed and _float_outputs(op)]
    fetches = [t for op in ops for t in _float_outputs(op)][:MAX_FETCH]
    values = run(fetches)
    by_op: dict = {}
    for t, v in zip(fetches, values):
        by_op.setdefault(t.op, []).append(v)
    for op in ops:  # creation order is a topological order
        if op.type in ("ReadVariableOp", "Placeholder", "Const", "VarHandleOp", "Identity"):
            continue
        if any(not _finite(v) for v in by_op.get(op, ())):
            return OpRef(op=op.name, type=op.type, location=_loc(flow, op.name),
                         reason=nonfinite_forward_reason(op, run))
    return None


def nonfinite_forward_reason(op: Any, run: Callable) -> str:
    """Why ``op`` turns NaN or Inf, from its inputs' values (``run`` evaluates tensors of its graph)."""
    import numpy as np

    try:
        (x,) = run([op.inputs[0]]) if op.inputs else (None,)
    except Exception:  # noqa: BLE001
        return ""
    if x is None:
        return ""
    x = np.asarray(x)
    if op.type in ("Log", "Log1p", "Sqrt", "Rsqrt", "Pow", "Xlogy"):
        if np.any(x < 0):
            return f"{op.type} of a negative input ({int(np.sum(x < 0))} of {x.size} values < 0) gives NaN"
        if np.any(x == 0):
            return f"{op.type} of 0 gives Inf"
    if op.type in ("RealDiv", "Div", "DivNoNan", "Reciprocal", "Inv") and len(op.inputs) > 1:
        try:
            (y,) = run([op.inputs[1]])
            if np.any(np.asarray(y) == 0):
                return "division by 0"
        except Exception:  # noqa: BLE001
            pass
    if not _finite(x):
        return "its input is already non-finite"
    return f"{op.type} overflows to Inf or gives NaN on these inputs"


def _ancestors_in_graph(op: Any) -> set:
    seen = {op}
    frontier = [op]
    while frontier:
        o = frontier.pop()
        for t in list(o.inputs) + list(o.control_inputs):
            p = t.op if hasattr(t, "op") else t
            if p not in seen:
                seen.add(p)
                frontier.append(p)
    return seen


def _loc(flow: Any, name: str) -> Any:
    return flow.location(name) if flow is not None and name in flow.G else None


def numeric_causes(trace: Any, flow: Any, reports: Sequence[Any], run: Callable | None = None) -> dict[str, OpRef]:
    """For each ``zero`` / ``nonfinite`` variable: the op where its gradient first goes bad.

    ``run``: evaluates tensors of ``trace.graph`` (default: the trace's own inputs).

    Returns:
        variable name -> the op (its ``reason`` says which value causes it).
    """
    wanted = [v for v in reports if v.status.value in ("zero", "nonfinite") and v.node]
    if not wanted:
        return {}
    try:
        return _numeric_causes(trace, flow, wanted, run)
    except Exception:  # noqa: BLE001 - an explanation only: the verdict stands without it
        return {}


def _numeric_causes(trace: Any, flow: Any, wanted: Sequence[Any], run: Callable | None = None) -> dict[str, OpRef]:
    import tensorflow as tf

    run = run or _runner(trace)
    if run is None:
        return {}
    graph = trace.graph
    loss_op = trace.loss.op
    ops_by_name = {op.name: op for op in graph.get_operations()}
    reads_var = {}  # op name -> variable name, for ReadVariableOp of a report's variable
    var_of_node = {node: name for name, node in flow.variables.items()}
    for op in graph.get_operations():
        if op.type == "ReadVariableOp" and op.inputs and op.inputs[0].op.name in var_of_node:
            reads_var[op.name] = var_of_node[op.inputs[0].op.name]
    needed = _ancestors_in_graph(loss_op)
    order = {op: i for i, op in enumerate(graph.get_operations())}
    paths = {}
    for v in wanted:  # one evaluation for every variable: the union of their paths
        start = ops_by_name.get(v.node)
        if start is not None:
            on = _descendants_in_graph(start) & needed
            paths[v.name] = sorted((op for op in on if _float_outputs(op)), key=order.__getitem__)
    union = sorted({op for ops in paths.values() for op in ops}, key=order.__getitem__)
    tensors = [t for op in union for t in _float_outputs(op)][:MAX_FETCH]
    if not tensors:
        return {}
    with graph.as_default():
        grads = tf.gradients(trace.loss, tensors, unconnected_gradients="zero")
    pairs = [(t, g) for t, g in zip(tensors, grads) if g is not None]
    fetch_inputs = list({i.name: i for op in union for i in op.inputs if i.dtype.is_floating}.values())
    values = run([tf.convert_to_tensor(g) for _, g in pairs] + fetch_inputs)
    grad_of = {t.name: val for (t, _), val in zip(pairs, values)}
    forward = {t.name: val for t, val in zip(fetch_inputs, values[len(pairs):])}
    out = {}
    for name, on_path in paths.items():
        path_set = set(on_path)
        for op in reversed(on_path):  # from the loss towards the variable
            outs = [grad_of.get(t.name) for t in _float_outputs(op)]
            if not any(_good(g) for g in outs) and op is not loss_op:
                continue
            bad_inputs = [t for t in op.inputs if t.op in path_set and t.name in grad_of and not _good(grad_of[t.name])]
            if not bad_inputs:
                continue
            out[name] = OpRef(op=op.name, type=op.type, location=_loc(flow, op.name),
                              reason=_cause_reason(op, bad_inputs[0], forward, grad_of, reads_var, path_set))
            break
    return out


def _descendants_in_graph(op: Any) -> set:
    seen = {op}
    frontier = [op]
    while frontier:
        o = frontier.pop()
        for t in o.outputs:
            for c in t.consumers():
                if c not in seen:
                    seen.add(c)
                    frontier.append(c)
    return seen


def _value_name(t: Any, reads_var: dict) -> str | None:
    op = t.op
    while op.type in ("Identity", "Cast") and op.inputs:
        op = op.inputs[0].op
    return reads_var.get(op.name)


def _cause_reason(op: Any, bad: Any, forward: dict, grad_of: dict, reads_var: dict, path_set: set) -> str:
    """The value at ``op`` that makes the gradient towards ``bad`` all zero or non-finite."""
    import numpy as np

    x = forward.get(bad.name)
    g = grad_of.get(bad.name)
    nonfinite = g is not None and not _finite(g)
    if op.type in ("Relu", "Relu6", "Elu", "Selu", "LeakyRelu") and x is not None:
        x = np.asarray(x)
        n = x.size
        if np.all(x <= 0):
            return f"all {n} pre-activations ≤ 0 (a dead ReLU)"
        return f"its pre-activations are ≤ 0 wherever the gradient arrives ({int(np.sum(x <= 0))} of {n})"
    if op.type in ("Sqrt", "Rsqrt") and x is not None and np.any(np.asarray(x) == 0):
        return "its input is 0, so the gradient is Inf"
    if op.type in ("Log", "Log1p", "Reciprocal", "Inv", "Pow") and x is not None:
        x = np.asarray(x)
        if np.any(x == 0):
            return "its input is 0, so the gradient is Inf"
        if np.any(x < 0):
            return "its input is negative, so the gradient is NaN"
    if op.type in ("RealDiv", "Div") and len(op.inputs) > 1:
        y = forward.get(op.inputs[1].name)
        if y is not None and np.any(np.asarray(y) == 0):
            return "division by 0, so the gradient is Inf or NaN"
    if op.type in ("MatMul", "BatchMatMulV2", "BatchMatMulV3", "Mul", "Einsum", "Conv2D", "BatchMatMul"):
        others = [t for t in op.inputs if t is not bad]
        for other in others:
            value = forward.get(other.name)
            if value is not None and not np.any(np.asarray(value)):
                name = _value_name(other, reads_var)
                what = name.rsplit("/", 1)[-1] if name else f"its other input ({other.op.type})"
                return f"{op.type} with {what}, which is all zero"
    if op.type in ("Sign", "Round", "Floor", "Ceil", "Rint"):
        return f"{op.type}'s gradient is zero everywhere"
    if op.type in ("Maximum", "Minimum", "ClipByValue", "Abs") and not nonfinite:
        return f"{op.type} passes the gradient to none of these elements (clipped)"
    if nonfinite:
        return "the gradient turns NaN or Inf here"
    return "the gradient is all zero past this op on the example inputs"
