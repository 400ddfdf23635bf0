"""Stage 1 for every kind of model file: a path -> :class:`~gradflow.loading.Target`.

gradflow opens three kinds of model:

- a Python model file (``FILE.py``), imported by :mod:`gradflow.loading`;
- a **SavedModel directory**: ``tf.saved_model.load`` restores the object, and
  the target is one of the functions it exports (``--function NAME``: an
  attribute path such as ``loss`` or ``model.loss``, or a signature key). Its
  inputs are synthesised from the restored function's input signature, and its
  variables are every variable the SavedModel restores;
- a **GraphDef** (``.pb`` binary or ``.pbtxt`` text, frozen or not): imported into
  a fresh ``tf.Graph`` and analysed statically. Nothing runs it: the verdicts are
  TensorFlow's symbolic gradients (``tf.compat.v1.gradients``) on the imported
  graph, with no numeric check. The target is a tensor (``--loss NAME``).

Neither a SavedModel nor a GraphDef keeps Python source lines, so every location
in their reports is null, and the report's notes say so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .errors import ModelFileError, NoVariablesError, TargetError, UsageError, first_line
from .loading import SEED, Origin, Target, describe, is_tf_function, load_file, summarize, synthesize_value

__all__ = ["GraphVariable", "model_format", "check_options", "load_model", "load_saved_model", "load_graph_def",
           "exported_functions", "restored_variables", "graph_variables", "scalar_float_tensors"]

SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")
GRAPHDEF_SUFFIXES = (".pb", ".pbtxt")
VARIABLE_OPS = frozenset({"VariableV2", "Variable", "VarHandleOp"})
NO_SOURCE = "a {what} keeps no Python source lines, so every location in this report is null"
MAX_LISTED = 12

_DESCRIPTIONS = {
    "python": "a Python model file",
    "saved_model": "a SavedModel directory",
    "graphdef": "a GraphDef",
}
_HOW_TO_NAME = {
    "python": "name its target with --target NAME (and its inputs with --inputs NAME)",
    "saved_model": "pick its function with --function NAME; its inputs come from the function's signature",
    "graphdef": "name its loss with --loss TENSOR; a GraphDef is never fed or run",
}
# option -> (its flag, the format it applies to)
_OPTIONS = {
    "target": ("--target", "python"),
    "inputs": ("--inputs", "python"),
    "function": ("--function", "saved_model"),
    "loss": ("--loss", "graphdef"),
}


# ---------------------------------------------------------------------------
# Which kind of model (no TensorFlow needed)


def model_format(path: str) -> Origin:
    """Tell a Python model file, a SavedModel directory and a GraphDef apart.

    Raises:
        ModelFileError: the path is missing or is none of the three.
    """
    fix = "Give a Python model file (.py), a SavedModel directory or a GraphDef (.pb, .pbtxt)."
    if not os.path.exists(path):
        raise ModelFileError(f"{path}: no such file or directory. {fix}")
    if os.path.isdir(path):
        if any(os.path.isfile(os.path.join(path, f)) for f in SAVED_MODEL_FILES):
            return "saved_model"
        raise ModelFileError(
            f"{path} is a directory, but not a SavedModel (it holds no saved_model.pb). "
            "Give a SavedModel directory written by tf.saved_model.save, or a model file (.py, .pb, .pbtxt)."
        )
    if path.endswith(".py"):
        return "python"
    if os.path.basename(path) in SAVED_MODEL_FILES:
        folder = os.path.dirname(path) or "."
        raise ModelFileError(
            f"{path} is the graph file of a SavedModel, not a GraphDef. Give its directory instead: "
            f"gradflow inspect {folder} --function NAME."
        )
    if path.endswith(GRAPHDEF_SUFFIXES):
        return "graphdef"
    raise ModelFileError(f"{path} is not a Python file, a SavedModel or a GraphDef. {fix}")


def check_options(path: str, *, target: str | None = None, inputs: str | None = None,
                  function: str | None = None, loss: str | None = None) -> Origin:
    """The model's format, after checking that every option given applies to it.

    Raises:
        ModelFileError: see :func:`model_format`.
        UsageError: an option for another kind of model (``--loss`` with a .py file...).
    """
    fmt = model_format(path)
    given = {"target": target, "inputs": inputs, "function": function, "loss": loss}
    for option, value in given.items():
        flag, owner = _OPTIONS[option]
        if value is not None and owner != fmt:
            raise UsageError(
                f"{flag} applies to {_DESCRIPTIONS[owner]}, but {path} is {_DESCRIPTIONS[fmt]}: "
                f"{_HOW_TO_NAME[fmt]}."
            )
    return fmt


def load_model(path: str, *, target: str | None = None, inputs: str | None = None,
               function: str | None = None, loss: str | None = None) -> Target:
    """Load any model gradflow opens (see the module docstring) into a :class:`Target`.

    Args:
        path: a ``.py`` file, a SavedModel directory, or a GraphDef ``.pb``/``.pbtxt``.
        target, inputs: for a Python file (``--target``, ``--inputs``).
        function: for a SavedModel (``--function``).
        loss: for a GraphDef (``--loss``).

    Raises:
        UserError: a subclass naming the problem and its fix.
    """
    fmt = check_options(path, target=target, inputs=inputs, function=function, loss=loss)
    if fmt == "saved_model":
        return load_saved_model(path, function)
    if fmt == "graphdef":
        return load_graph_def(path, loss)
    return load_file(path, target=target, inputs=inputs)


# ---------------------------------------------------------------------------
# SavedModel directories


def load_saved_model(path: str, function: str | None) -> Target:
    """A SavedModel's exported function, its synthesised inputs and every restored variable.

    Raises:
        ModelFileError: TensorFlow cannot load the directory.
        TargetError: ``function`` is missing or names nothing the SavedModel exports.
    """
    import tensorflow as tf

    try:
        root = tf.saved_model.load(path)
    except Exception as exc:  # noqa: BLE001 - a corrupt or incompatible SavedModel
        raise ModelFileError(
            f"{path} could not be loaded as a SavedModel: {first_line(exc)}. "
            "Give a directory written by tf.saved_model.save (or a Keras model.export)."
        ) from exc
    concrete, others = _pick_concrete(_exported_function(root, function, path), function, path)
    args, kwargs = _synthesize_call(concrete)
    inputs_note = "none (the function takes no arguments)"
    if args or kwargs:
        inputs_note = f"synthesised from the signature of `{function}`: {_signature_text(concrete)}"
    if others:
        inputs_note += (f" (the first in sorted order of its {len(others) + 1} concrete signatures; "
                        f"the others: {', '.join(others)})")
    return Target(
        source=path,
        name=function,
        kind="callable",
        obj=concrete,
        args=args,
        kwargs=kwargs,
        inputs_note=inputs_note,
        variables=tuple(restored_variables(root, concrete)),
        origin="saved_model",
        output=_signature_output(concrete, function),
        notes=(NO_SOURCE.format(what="SavedModel"),),
    )


def public_objects(root: Any) -> list[tuple[str, Any]]:
    """``(attribute path, object)`` for everything reachable from ``root`` through public
    attributes, breadth first, each object once; functions and variables are not entered.

    Private attributes are skipped: Keras's ``model.export`` keeps a second,
    unread copy of every variable in ``_all_variables``.
    """
    import tensorflow as tf

    view = tf.train.TrackableView(root)
    found, queue, seen = [], [("", root)], {id(root)}
    while queue:
        prefix, obj = queue.pop(0)
        for name, child in view.children(obj).items():
            if name.startswith("_") or name == "signatures" or id(child) in seen:
                continue
            seen.add(id(child))
            found.append((prefix + name, child))
            if not (is_tf_function(child) or isinstance(child, tf.Variable)):
                queue.append((f"{prefix}{name}.", child))
    # Every object reachable from the root by public attributes is in `found`
    # once, under its shortest path.
    return found


def exported_functions(root: Any) -> list[str]:
    """Attribute paths of the restored ``tf.function`` s, then the signature keys."""
    found = [path for path, obj in public_objects(root) if is_tf_function(obj)]
    signatures = getattr(root, "signatures", None) or {}
    return found + [key for key in sorted(signatures) if key not in found]


def _exported_function(root: Any, name: str | None, path: str) -> Any:
    """The function ``name`` names: an attribute path first, else a signature key."""
    obj: Any = root
    for part in (name or "").split("."):
        obj = getattr(obj, part, None) if part else None
        if obj is None:
            break
    if obj is not None and is_tf_function(obj):
        return obj
    signatures = getattr(root, "signatures", None) or {}
    if name is not None and name in signatures:
        return signatures[name]
    names = exported_functions(root)
    listed = _listing(names)
    if not names:
        raise TargetError(
            f"{path} exports no functions (no tf.function attributes, no signatures). Save an "
            "object with a tf.function that returns the loss, e.g. tf.saved_model.save(module, ...)."
        )
    if name is None:
        raise TargetError(f"{path} exports functions: {listed}; pick one with --function NAME.")
    what = f" (it is a {_what_is(obj)}, not a function)" if obj is not None else ""
    raise TargetError(
        f"{path} exports no function `{name}`{what}. It exports: {listed}; pick one with --function NAME."
    )


def _what_is(obj: Any) -> str:
    import tensorflow as tf

    return "variable" if isinstance(obj, tf.Variable) else describe(obj)


def _pick_concrete(fn: Any, name: str, path: str) -> tuple[Any, list[str]]:
    """The concrete function to call, the first by its signature's text, and the others' texts."""
    concretes = list(fn.concrete_functions) if is_tf_function(fn) else [fn]  # else a signature
    ranked = sorted(concretes, key=_signature_text)
    if not ranked:
        raise TargetError(
            f"function `{name}` of {path} was saved without a concrete signature, so it cannot be "
            "called. Give the tf.function an input_signature (or call it once) before saving."
        )
    return ranked[0], [_signature_text(c) for c in ranked[1:]]


def _signature_text(concrete: Any) -> str:
    """``(float32[?, 5])``, with keyword arguments by name: ``(x: float32[?, 5])``."""
    args, kwargs = concrete.structured_input_signature
    parts = [summarize(a) for a in args] + [f"{k}: {summarize(v)}" for k, v in sorted(kwargs.items())]
    return "(" + ", ".join(parts) + ")"


def _synthesize_call(concrete: Any) -> tuple[tuple, dict]:
    """Arguments for a concrete function: each TensorSpec synthesised (the contract's rules)."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(SEED)

    def leaf(spec: Any) -> Any:
        if isinstance(spec, tf.TensorSpec):
            return tf.constant(synthesize_value(spec.shape, spec.dtype, rng))
        return spec  # a Python value the function was traced with

    args, kwargs = concrete.structured_input_signature
    return tuple(tf.nest.map_structure(leaf, tuple(args))), dict(tf.nest.map_structure(leaf, dict(kwargs)))


def _signature_output(concrete: Any, name: str) -> str | None:
    """For a function returning a dict (a signature): the key of its only output."""
    outputs = concrete.structured_outputs
    if not isinstance(outputs, dict):
        return None
    if len(outputs) == 1:
        return next(iter(outputs))
    raise TargetError(
        f"function `{name}` returns several outputs ({', '.join(sorted(outputs))}); gradflow needs "
        "the loss alone. Export a function or signature that returns one scalar loss."
    )


def restored_variables(root: Any, concrete: Any) -> list:
    """The SavedModel's variables: those public attributes reach, then any other the function reads."""
    import tensorflow as tf

    found = [obj for _, obj in public_objects(root) if isinstance(obj, tf.Variable)]
    listed = getattr(root, "variables", None)  # a TF1 SavedModel lists its variables here
    if isinstance(listed, (list, tuple)):
        found.extend(v for v in listed if isinstance(v, tf.Variable))
    found.extend(concrete.graph.variables)
    unique, seen = [], set()
    for var in found:
        if id(var) not in seen:
            seen.add(id(var))
            unique.append(var)
    return unique


# ---------------------------------------------------------------------------
# GraphDefs


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
    listed = _listing(scalar_float_tensors(graph)) or "none"
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


def _listing(names: list[str]) -> str:
    """``a, b, c (+4 more)``: a short list for an error message."""
    more = f" (+{len(names) - MAX_LISTED} more)" if len(names) > MAX_LISTED else ""
    return ", ".join(names[:MAX_LISTED]) + more

