"""A GraphDef (``.pb`` binary or ``.pbtxt`` text, frozen or not) -> :class:`~gradflow.loading.Target`.

The GraphDef is imported into a fresh ``tf.Graph`` and analysed statically.
Nothing runs it: the verdicts are TensorFlow's symbolic gradients
(``tf.compat.v1.gradients``) on the imported graph, with no numeric check. The
target is a tensor (``--loss NAME``). A GraphDef keeps no Python source lines,
so every location in its report is null, and the report's notes say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ModelFileError, NoVariablesError, TargetError, first_line
from .target import NO_SOURCE, Target, listing

__all__ = ["GraphVariable", "load_graph_def", "graph_variables", "scalar_float_tensors", "VARIABLE_OPS"]

VARIABLE_OPS = frozenset({"VariableV2", "Variable", "VarHandleOp"})


@dataclass(frozen=True)
class GraphVariable:
    """A variable of an imported GraphDef: an op, not a ``tf.Variable``.

    Attributes:
        name: the op's name (a variable's ``.name`` without ``:0``).
        tensor: what TensorFlow differentiates against, as ``tf.gradients`` does
            for a variable: a ref variable's ``float32_ref`` output
            (``VariableV2``), a resource variable's handle (``VarHandleOp``;
            ``ReadVariableOp``'s gradient flows to it), or a frozen weight's value.
        shape: dims, None where unknown; None when the rank is unknown.
        dtype: e.g. ``"float32"``.
        trainable: see :func:`graph_variables`.
    """

    name: str
    tensor: Any
    shape: tuple | None
    dtype: str
    trainable: bool


def load_graph_def(path: str, loss: str | None) -> Target:
    """Import a GraphDef into a fresh ``tf.Graph`` and name its loss tensor. Nothing runs it.

    Raises:
        ModelFileError: the file is no GraphDef, or TensorFlow cannot import it.
        TargetError: ``loss`` is missing or names no tensor of the graph.
    """
    import tensorflow as tf

    graph_def = _read_graph_def(path)
    graph = tf.Graph()
    with graph.as_default():
        try:
            tf.compat.v1.import_graph_def(graph_def, name="")
        except Exception as exc:  # noqa: BLE001 - an unknown op, a broken input...
            raise ModelFileError(
                f"{path} could not be imported into a tf.Graph: {first_line(exc)}. Give a GraphDef "
                "written by tf.io.write_graph with this TensorFlow's ops."
            ) from exc
    tensor = _loss_tensor(graph, loss, path)
    variables, variables_note = graph_variables(graph)
    if not variables:
        raise NoVariablesError(_no_variables_message(graph, path))
    return Target(
        source=path,
        name=tensor.name,
        kind="tf1",
        obj=tensor,
        inputs_note="none: a GraphDef is analysed without running it, so its placeholders are never fed",
        variables=tuple(variables),
        origin="graphdef",
        notes=(
            "a GraphDef is analysed statically: nothing ran the graph, so no numeric check ran. Each "
            "status is TensorFlow's symbolic gradient (tf.compat.v1.gradients on the imported graph): "
            "flows means the gradient is a tensor, and grad_norm is null",
            variables_note,
            NO_SOURCE.format(what="GraphDef"),
        ),
    )


def _read_graph_def(path: str) -> Any:
    """Parse binary or text protobuf, the suffix's format first."""
    import tensorflow as tf
    from google.protobuf import message, text_format

    with open(path, "rb") as fh:
        data = fh.read()

    def binary() -> Any:
        return tf.compat.v1.GraphDef.FromString(data)

    def text() -> Any:
        return text_format.Parse(data.decode("utf-8"), tf.compat.v1.GraphDef())

    parsers = (text, binary) if path.endswith(".pbtxt") else (binary, text)
    graph_def, errors = None, []
    for parse in parsers:
        try:
            graph_def = parse()
            break
        except (message.DecodeError, text_format.ParseError, UnicodeDecodeError, ValueError) as exc:
            errors.append(first_line(exc))
    if graph_def is None or not graph_def.node:
        why = errors[0] if graph_def is None else "it holds no ops"
        raise ModelFileError(
            f"{path} is not a GraphDef ({why}). Give a graph written by tf.io.write_graph "
            "(binary .pb or text .pbtxt), or a SavedModel directory."
        )
    return graph_def


def _loss_tensor(graph: Any, loss: str | None, path: str) -> Any:
    """The tensor ``loss`` names (``name`` or ``name:0``)."""
    if loss:
        try:
            return graph.get_tensor_by_name(loss if ":" in loss else loss + ":0")
        except (KeyError, ValueError):
            pass
    listed = listing(scalar_float_tensors(graph)) or "none"
    if not loss:
        raise TargetError(
            f"{path} is a GraphDef: name its loss with --loss TENSOR. Scalar float tensors in it: {listed}."
        )
    raise TargetError(
        f"{path} has no tensor `{loss}`. Scalar float tensors in it: {listed}; pick one with --loss TENSOR."
    )


def scalar_float_tensors(graph: Any) -> list[str]:
    """Names of plausible losses: scalar float results of computing ops, likeliest first.

    First those named like a loss, then those nothing consumes, then the rest,
    each in graph order; a TF1 optimizer's ``gradients/`` scope and variable
    initializers are skipped.
    """
    found = []
    for op in graph.get_operations():
        if op.type in ("Const", "Placeholder", "PlaceholderWithDefault") or op.type in VARIABLE_OPS:
            continue
        if op.name.startswith("gradients") or "/Initializer/" in op.name:
            continue  # a TF1 optimizer's gradients, a variable's initial value
        found.extend(t for t in op.outputs if t.dtype.is_floating and t.shape.rank == 0)
    ranked = sorted(enumerate(found), key=lambda it: ("loss" not in it[1].name.lower(), bool(it[1].consumers()), it[0]))
    return [t.name for _, t in ranked]


def graph_variables(graph: Any) -> tuple[list[GraphVariable], str]:
    """The variables of an imported graph, and a note saying how they were found.

    A GraphDef keeps no variable collections. The variables are its variable ops
    (``VariableV2``, ``VarHandleOp``...); the float ones are trainable except
    an optimizer's state (:func:`_optimizer_state`). A frozen graph has no
    variable ops: its non-scalar float constants, which were the weights,
    stand in for them (trainable).
    """
    import tensorflow as tf

    ops = [op for op in graph.get_operations() if op.type in VARIABLE_OPS]
    if not ops:
        consts = [op for op in graph.get_operations() if _is_frozen_weight(op)]
        variables = [_graph_variable(op, op.outputs[0].shape, op.outputs[0].dtype, True) for op in consts]
        return variables, (
            f"a frozen graph: it holds no variable ops, so its {len(variables)} non-scalar float "
            "constants stand in for the weights (trainable), and each gradient is TensorFlow's "
            "gradient with respect to that constant"
        )
    state = _optimizer_state(graph)
    variables = []
    for op in ops:
        dtype = tf.as_dtype(op.get_attr("dtype"))
        trainable = (dtype.is_floating or dtype.is_complex) and op.name not in state
        variables.append(_graph_variable(op, tf.TensorShape(op.get_attr("shape")), dtype, trainable))
    return variables, (
        "a GraphDef keeps no trainable-variables collection: every float variable counts as trainable, "
        "except an optimizer's own state (slots and accumulators: the other variables an Apply* op updates)"
    )


def _no_variables_message(graph: Any, path: str) -> str:
    captured = any(op.type == "Placeholder" and op.get_attr("dtype") == "resource" for op in graph.get_operations())
    hint = (" Its resource placeholders look like a tf.function's graph, whose variables live outside "
            "it: save the object as a SavedModel instead.") if captured else ""
    return (f"{path} has no variables: no variable ops (VariableV2, VarHandleOp) and no non-scalar "
            f"float constants (a frozen graph's weights), so there is nothing to differentiate.{hint}")


def _graph_variable(op: Any, shape: Any, dtype: Any, trainable: bool) -> GraphVariable:
    dims = None if shape.rank is None else tuple(shape.as_list())
    return GraphVariable(name=op.name, tensor=op.outputs[0], shape=dims, dtype=dtype.base_dtype.name,
                         trainable=trainable)


def _is_frozen_weight(op: Any) -> bool:
    if op.type != "Const":
        return False
    t = op.outputs[0]
    return t.dtype.is_floating and t.shape.rank is not None and t.shape.rank > 0


def _optimizer_state(graph: Any) -> set[str]:
    """Names of the variable ops an optimizer keeps its state in.

    An optimizer op (``ApplyAdam``, ``ResourceApplyMomentum``...) updates its
    input 0, the variable; its other variable inputs are its slots and
    accumulators (Adam's ``m``, ``v``, ``beta1_power``...). Whether a variable
    has an optimizer op of its own says nothing: TF1's ``minimize`` gives none
    to a variable whose gradient is None, the very variables gradflow reports.
    """
    state = set()
    for op in graph.get_operations():
        kind = op.type.removeprefix("Resource").removeprefix("Sparse")
        if not kind.startswith("Apply"):
            continue
        for t in op.inputs[1:]:
            source = t.op
            while source.type in ("Identity", "ReadVariableOp") and source.inputs:
                source = source.inputs[0].op
            if source.type in VARIABLE_OPS:
                state.add(source.name)
    return state
