"""Stage 2: :class:`Target` -> :class:`Trace`.

A callable becomes a concrete function (a ``FuncGraph``), a compiled Keras
model becomes a concrete function of its compiled loss, and a TF1 loss tensor
is taken with its graph as it is. The trace also fixes the variable set of the
contract: the variables the traced loss reads, plus those reachable from the
module's globals (or the module's explicit ``variables`` list), plus a TF1
graph's global-variables collection. A function restored from a SavedModel is
already a graph and is taken as it is; so is a GraphDef's loss tensor, whose
variables the loader found (:mod:`gradflow.loading`).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from .errors import InputsError, LossError, NoVariablesError, TraceError
from .loading import SEED, Target, record_variable_creation, synthesize_value
from .sources import format_user_traceback
from .schema import shape_text

__all__ = ["Trace", "VariableRef", "trace", "variable_display_name", "keras_loss_function",
           "keras_compute_loss"]


@dataclass
class VariableRef:
    """One variable of the report.

    Attributes:
        name: the display name (Keras ``.path``, else ``.name`` without ``:0``;
            repeats get ``#2``, ``#3``...).
        shape: dims, None where unknown; None when the rank is unknown.
        dtype: e.g. ``"float32"``.
        trainable: the variable's own flag.
        var: the ``tf.Variable`` itself (what autodiff differentiates against);
            for a GraphDef, the variable op's ref output or resource handle, or
            a frozen weight's constant.
        op_name: the op standing for it in the traced graph (a captured handle
            placeholder, ``VarHandleOp`` or ``VariableV2``), or None when unread.
        replica_ops: for a variable mirrored by a ``tf.distribute`` strategy,
            the ops standing for its other replicas' copies.
        created_at: the user's line that created it (a ``Location``), or None.
        tracked: whether the model or module owning the loss lists it among its
            trainable variables (None when no model or module owns the loss).
        layer, layer_class: the Keras layer (its ``.path``) or ``tf.Module`` that
            owns it, and that owner's class name; None when no owner was found.
    """

    name: str
    shape: tuple | None
    dtype: str
    trainable: bool
    var: Any
    op_name: str | None = None
    replica_ops: tuple[str, ...] = ()
    created_at: Any = None
    tracked: bool | None = None
    layer: str | None = None
    layer_class: str | None = None


@dataclass
class Trace:
    """A traced loss, ready for analysis and autodiff.

    Attributes:
        target: where it came from.
        graph: the ``FuncGraph`` (callable, keras) or ``tf.Graph`` (tf1).
        loss: the loss tensor in ``graph``.
        variables: the variables of the report, in report order.
        concrete: the concrete function (callable, keras), called by autodiff.
        call_args, call_kwargs: its inputs.
        feed: placeholder -> value (tf1); the values are None for a GraphDef,
            which is never run.
        notes: things the report should say (a summed non-scalar loss...).
    """

    target: Target
    graph: Any
    loss: Any
    variables: list[VariableRef]
    concrete: Any = None
    call_args: tuple = ()
    call_kwargs: dict = field(default_factory=dict)
    feed: dict | None = None
    notes: list[str] = field(default_factory=list)


def trace(target: Target) -> Trace:
    """Trace ``target`` into a graph and fix its variable set.

    Raises:
        InputsError: the inputs do not fit.
        TraceError: the user's code raised while being traced.
        LossError: the result is not a float tensor.
        NoVariablesError: there is nothing to differentiate.
    """
    if target.kind == "tf1":
        result = _trace_tf1(target)
    else:
        result = _trace_function(target)
    if not result.variables:
        raise NoVariablesError(
            f"target `{target.name}` has no variables: the loss reads none and the module "
            "defines none. gradflow reports which variables receive a gradient, so there must "
            "be at least one tf.Variable (or a Keras layer's weights)."
        )
    return result


# ---------------------------------------------------------------------------
# tf.function, plain callables, tf.Module, Keras


def _trace_function(target: Target) -> Trace:
    import numpy as np
    import tensorflow as tf

    def as_tensor(v: Any) -> Any:
        return tf.constant(v) if isinstance(v, np.ndarray) else v

    args = tf.nest.map_structure(as_tensor, tuple(target.args))
    kwargs = tf.nest.map_structure(as_tensor, dict(target.kwargs))
    if target.origin == "saved_model":
        concrete = target.obj  # restored from the SavedModel: already a graph, nothing to trace
    else:
        concrete, args, kwargs = _concrete_function(target, args, kwargs)
    out, loss = _loss_output(target, concrete)
    notes = list(target.notes) + _loss_shape_notes(out)
    if target.kind == "keras":
        notes += _outputs_without_loss_notes(target.obj)
    graph = concrete.graph
    captured = {id(external): internal.op.name for external, internal in graph.captures}
    read = list(graph.variables)
    candidates = _candidate_variables(target, read)
    refs = []
    for display, var in candidates:
        handles = [captured.get(id(getattr(c, "handle", None))) for c in _replicas(var)]
        ref = _make_ref(display, var, captured.get(id(getattr(var, "handle", None))))
        ref.replica_ops = tuple(h for h in handles if h is not None and h != ref.op_name)
        refs.append(ref)
    _name_uniquely(refs)
    _mark_tracking(target, refs)
    _mark_layers(target, refs)
    return Trace(target=target, graph=graph, loss=loss, variables=refs, concrete=concrete,
                 call_args=args, call_kwargs=kwargs, notes=notes)


def _concrete_function(target: Target, args: tuple, kwargs: dict) -> tuple[Any, tuple, dict]:
    """Trace the target (a function or a compiled Keras model's loss) on its inputs."""
    if target.kind == "keras":
        fn, args, kwargs = keras_loss_function(target, args)
    else:
        fn = _as_tf_function(target.obj)
    _check_signature(target, fn, args)
    try:
        with record_variable_creation(target.created):
            return fn.get_concrete_function(*args, **kwargs), args, kwargs
    except Exception as exc:  # the user's code, or TF binding the inputs
        raise _trace_failure(target, exc) from exc


def _loss_output(target: Target, concrete: Any) -> tuple[Any, Any]:
    """``(structured output, graph tensor)`` of the loss, checked to be one float tensor.

    The structured output is a tensor for a function gradflow traced, a
    ``TensorSpec`` for one restored from a SavedModel; a signature's dict of
    outputs is narrowed to ``target.output``.
    """
    import tensorflow as tf

    out, index = concrete.structured_outputs, 0
    if target.output is not None:
        index = sorted(out).index(target.output)  # outputs are flattened in sorted key order
        out = out[target.output]
    if not (tf.is_tensor(out) or isinstance(out, tf.TensorSpec)):
        raise LossError(
            f"target `{target.name}` returned {_kind_of(out)}, not a tensor. Return one scalar "
            "float loss (e.g. tf.reduce_mean(...))."
        )
    if not (out.dtype.is_floating or out.dtype.is_complex):
        raise LossError(
            f"target `{target.name}` returned a {out.dtype.name} tensor; a loss must be a float "
            "tensor. Cast it with tf.cast(..., tf.float32) only if that is really the loss: an "
            "integer result carries no gradient."
        )
    return out, concrete.outputs[index]


def _as_tf_function(obj: Any) -> Any:
    import tensorflow as tf

    from .loading import is_tf_function

    if is_tf_function(obj):
        # A fresh clone traces anew: the user's cached concrete functions may
        # already be rewritten by a backward pass, and gradflow's probes must
        # not land in graphs the user goes on to run.
        return obj._clone(python_function=obj.python_function)
    if inspect.isfunction(obj) or inspect.ismethod(obj):
        return tf.function(obj)
    return tf.function(obj.__call__)


def keras_compute_loss(model: Any) -> Any:
    """The compiled model's loss as a plain function of ``(x, y, sample_weight)``, with ``training=True``.

    ``sample_weight`` may be None. :func:`keras_loss_function` wraps it for
    tracing; ``gradflow train`` calls it inside its own training step.
    """
    accepts_training = "training" in inspect.signature(model.compute_loss).parameters

    def loss_of(x: Any, y: Any, sample_weight: Any) -> Any:
        y_pred = model(x, training=True)
        kwargs = dict(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        if accepts_training:
            kwargs["training"] = True
        return model.compute_loss(**kwargs)

    return loss_of


def keras_loss_function(target: Target, args: tuple) -> tuple[Any, tuple, dict]:
    """A tf.function computing the compiled model's loss with ``training=True``."""
    import tensorflow as tf

    model = target.obj
    x, y = args[0], args[1]
    sample_weight = args[2] if len(args) > 2 else None
    if not model.built:
        try:
            model(x, training=False)
        except Exception as exc:
            raise _trace_failure(target, exc) from exc
    loss_of = keras_compute_loss(model)

    if sample_weight is None:
        # No optional argument: a concrete function binds a nested `y` (a dict of
        # outputs) only by its full signature, where a defaulted None is required.
        def compiled_loss(x: Any, y: Any) -> Any:
            return loss_of(x, y, None)

        return tf.function(compiled_loss), (x, y), {}

    def weighted_loss(x: Any, y: Any, sample_weight: Any) -> Any:
        return loss_of(x, y, sample_weight)

    return tf.function(weighted_loss), (x, y), {"sample_weight": sample_weight}


def _check_signature(target: Target, fn: Any, args: tuple) -> None:
    """Name the argument whose example input does not fit the ``input_signature``."""
    import tensorflow as tf

    from .loading import is_tf_function, summarize

    signature = getattr(fn, "input_signature", None) if is_tf_function(fn) else None
    if not signature or target.kind != "callable":
        return
    try:
        names = list(inspect.signature(fn.python_function).parameters)
    except (TypeError, ValueError, AttributeError):
        names = []
    if len(args) != len(signature):
        raise InputsError(
            f"target `{target.name}` takes {len(signature)} argument(s) by its input_signature, "
            f"but {target.inputs_note or 'the inputs'} give {len(args)}. Fix `example_inputs`."
        )
    for i, (spec, value) in enumerate(zip(signature, args)):
        if not isinstance(spec, tf.TensorSpec) or not tf.is_tensor(value):
            continue
        if spec.dtype != value.dtype or not spec.shape.is_compatible_with(value.shape):
            name = names[i] if i < len(names) else f"#{i + 1}"
            expected = summarize(tf.zeros([], spec.dtype)).split("[")[0] + _dims(spec.shape)
            raise InputsError(
                f"argument `{name}` of target `{target.name}` expects {expected} (its "
                f"input_signature), but the example input is {summarize(value)}. Make "
                "`example_inputs` match the signature."
            )


def _dims(shape: Any) -> str:
    return shape_text(None if shape.rank is None else shape.as_list(), unknown="[...]")


def _trace_failure(target: Target, exc: Exception) -> Exception:
    message = str(exc).strip()
    binding = isinstance(exc, (TypeError, ValueError)) and any(
        phrase in message
        for phrase in ("argument", "input_signature", "positional", "Binding inputs", "signature")
    ) and "in user code" not in message
    inputs = f"inputs: {target.inputs_note}" if target.inputs_note else "no inputs"
    if binding:
        return InputsError(
            f"the inputs do not fit target `{target.name}` ({inputs}): {_first_lines(message, 3)}. "
            "Fix `example_inputs` (a tuple of positional arguments, one tensor, or a dict of "
            "keyword arguments) to match the function's parameters and input_signature.",
        )
    # Autograph already put the user's frames in its message ("in user code").
    user_tb = None if "in user code" in message else format_user_traceback(exc)
    return TraceError(
        f"target `{target.name}` raised {type(exc).__name__} while TensorFlow traced it "
        f"({inputs}): {_first_lines(message)}\nFix the model file (or its example inputs).",
        user_traceback=user_tb,
    )


def _first_lines(message: str, limit: int = 12) -> str:
    lines = [line.rstrip() for line in message.splitlines() if line.strip()]
    text = "\n".join(lines[:limit])
    return text + ("\n..." if len(lines) > limit else "")


def _kind_of(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(map(str, value))}"
    return f"a {type(value).__name__}"


def _outputs_without_loss_notes(model: Any) -> list[str]:
    """A compiled model whose ``compile(loss=...)`` leaves some named outputs without a loss.

    Keras then warns "Gradients do not exist for variables [...]" in ``fit``: the
    variables that feed only those outputs get no gradient.
    """
    names = [str(n) for n in (getattr(model, "output_names", None) or [])]
    losses = getattr(model, "loss", None)
    if len(names) < 2 or losses is None:
        return []
    if isinstance(losses, dict):
        missing = [n for n in names if losses.get(n) is None]
    elif isinstance(losses, (list, tuple)) and len(losses) == len(names):
        missing = [n for n, one in zip(names, losses) if one is None]
    else:
        return []  # one loss for every output
    if not missing or len(missing) == len(names):
        return []
    which = ", ".join(f"'{n}'" for n in missing)
    return [f"compile() gives no loss for output{'s' if len(missing) > 1 else ''} {which} "
            f"(of {len(names)} outputs): variables that feed only {'them' if len(missing) > 1 else 'it'} "
            "get no gradient (Keras's \"Gradients do not exist for variables\" in fit)"]


def _loss_shape_notes(out: Any) -> list[str]:
    notes = []
    if out.dtype.is_complex:  # accepted, as TensorFlow's autodiff accepts it, but never silently
        notes.append(
            f"the loss is complex ({out.dtype.name}); TensorFlow's autodiff differentiates it (the "
            "gradient of its real part, conjugated), but an optimizer minimises a real number: "
            "return tf.math.real(...), tf.abs(...) or a squared magnitude if that is the loss"
        )
    shape = out.shape
    if shape.rank == 0:
        return notes
    dims = "unknown" if shape.rank is None else str(shape.as_list())
    return notes + [
        f"the loss is not a scalar (shape {dims}); like TensorFlow's autodiff, gradflow "
        "differentiates its sum"
    ]


# ---------------------------------------------------------------------------
# TF1 graphs


def _trace_tf1(target: Target) -> Trace:
    loss = target.obj
    graph = loss.graph
    if not (loss.dtype.is_floating or loss.dtype.is_complex):
        raise LossError(
            f"target `{target.name}` is a {loss.dtype.name} tensor; a loss must be a float tensor."
        )
    notes = list(target.notes) + _loss_shape_notes(loss)
    if target.origin == "graphdef":
        refs = _graph_def_refs(target)
        # Never run: the placeholders are the graph's inputs, with no values.
        feed = {op.outputs[0]: None for op in _ancestor_ops(loss.op) if op.type == "Placeholder"}
    else:
        feed = _tf1_feed(target, graph, loss)
        refs = _tf1_refs(target, graph)
    return Trace(target=target, graph=graph, loss=loss, variables=refs, feed=feed, notes=notes)


def _tf1_refs(target: Target, graph: Any) -> list[VariableRef]:
    """A TF1 graph's variables: the module's (or its ``variables`` list), then its collections."""
    import tensorflow as tf

    with graph.as_default():
        collected = list(tf.compat.v1.global_variables()) + [
            v for v in tf.compat.v1.trainable_variables()
        ]
    module_level = [v for _, v in _module_variables(target) if getattr(v, "graph", None) is graph]
    explicit = _explicit_variables(target)
    if explicit is not None:
        candidates = explicit
    else:
        candidates = [(v, v) for v in module_level + collected]
    refs = []
    seen: set[int] = set()
    for display, var in candidates:
        if id(var) in seen:
            continue
        seen.add(id(var))
        refs.append(_make_ref(display, var, var.op.name if getattr(var, "graph", None) is graph else None))
    _name_uniquely(refs)
    _mark_tracking(target, refs)
    _mark_layers(target, refs)
    return refs


def _graph_def_refs(target: Target) -> list[VariableRef]:
    """An imported GraphDef's variable ops (or a frozen graph's weights), as the loader found them."""
    refs = [
        VariableRef(name=v.name, shape=v.shape, dtype=v.dtype, trainable=v.trainable, var=v.tensor,
                    op_name=v.tensor.op.name)
        for v in target.variables
    ]
    _name_uniquely(refs)
    return refs


def _tf1_feed(target: Target, graph: Any, loss: Any) -> dict:
    """Feeds for every placeholder the loss depends on: given, else synthesised."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    needed = [op for op in _ancestor_ops(loss.op) if op.type == "Placeholder"]
    given: dict = {}
    for key, value in (target.feed or {}).items():
        tensor = key
        if isinstance(key, str):
            name = key if ":" in key else key + ":0"
            try:
                tensor = graph.get_tensor_by_name(name)
            except (KeyError, ValueError) as exc:
                raise InputsError(
                    f"`example_feed` names {key!r}, which is not a tensor of the loss's graph."
                ) from exc
        if getattr(tensor, "graph", None) is not graph:
            raise InputsError(
                f"`example_feed` key {key!r} is not a placeholder of the loss's graph; key the "
                "dict by the placeholders the loss is computed from."
            )
        value = np.asarray(value)
        if not tensor.shape.is_compatible_with(value.shape):
            raise InputsError(
                f"`example_feed` gives {tensor.op.name} an array of shape {list(value.shape)}, "
                f"but the placeholder has shape {tensor.shape.as_list() if tensor.shape.rank is not None else 'unknown'}. "
                "Make the array's shape fit the placeholder."
            )
        given[tensor] = value
    feed = dict(given)
    for op in sorted(needed, key=lambda o: o.name):
        t = op.outputs[0]
        if t not in feed:
            feed[t] = synthesize_value(t.shape if t.shape.rank is not None else None, t.dtype, rng)
    return feed


def _ancestor_ops(op: Any) -> list:
    seen = {op}
    stack = [op]
    while stack:
        current = stack.pop()
        for t in current.inputs:
            if t.op not in seen:
                seen.add(t.op)
                stack.append(t.op)
        for c in current.control_inputs:
            if c not in seen:
                seen.add(c)
                stack.append(c)
    return list(seen)


# ---------------------------------------------------------------------------
# Variables


def as_tf_variable(v: Any) -> Any:
    """The ``tf.Variable`` behind ``v`` (a Keras 3 variable wraps one), or None."""
    import tensorflow as tf

    if type(v).__name__ == "_UnreadVariable":
        return None  # the result of `v.assign(...)` in graph mode, not a variable of its own
    if isinstance(v, tf.Variable):
        return v
    inner = getattr(v, "_value", None)
    if isinstance(inner, tf.Variable):
        return inner
    return None


def _variables_of(value: Any) -> list:
    """Variables reachable from one module-level value (as display objects)."""
    import tensorflow as tf

    if as_tf_variable(value) is not None:
        return [value]
    if isinstance(value, type):
        return []
    if isinstance(value, tf.Module) or _is_keras_layer(value):
        try:
            return list(value.variables)
        except Exception:  # a half-built layer; its variables are none yet
            return []
    if isinstance(value, (list, tuple)):
        return [v for item in value if as_tf_variable(item) is not None for v in [item]]
    if isinstance(value, dict):
        return [v for v in value.values() if as_tf_variable(v) is not None]
    return []


def _is_keras_layer(value: Any) -> bool:
    try:
        import keras
    except ImportError:  # pragma: no cover
        return False
    return isinstance(value, keras.layers.Layer)


def _module_variables(target: Target) -> list[tuple[Any, Any]]:
    found = []
    if target.module is not None:
        for attr, value in list(vars(target.module).items()):
            if attr.startswith("__"):
                continue
            found.extend(_variables_of(value))
    else:
        found.extend(_variables_of(target.obj))
    pairs = []
    for display in found:
        var = as_tf_variable(display)
        if var is not None:
            pairs.append((display, var))
    return pairs


def _explicit_variables(target: Target) -> list[tuple[Any, Any]] | None:
    if target.variables is None:
        return None
    pairs = []
    for item in target.variables:
        var = as_tf_variable(item)
        if var is None:
            raise NoVariablesError(
                f"the `variables` list holds a {type(item).__name__}, not a variable. List "
                "tf.Variables (or Keras weights) only, or remove `variables` to let gradflow search."
            )
        pairs.append((item, var))
    return pairs


def _candidate_variables(target: Target, read: list) -> list[tuple[Any, Any]]:
    """(display object, tf.Variable) pairs in report order, deduplicated.

    Order: the explicit ``variables`` list; else a compiled model's own
    variables, then module-level ones, then any others the trace reads.
    """
    explicit = _explicit_variables(target)
    if explicit is not None:
        pairs = explicit
    else:
        own = [(v, as_tf_variable(v)) for v in target.obj.variables] if target.kind == "keras" else []
        pairs = own + _module_variables(target) + [(v, v) for v in read]
    # One entry for a mirrored variable, not one per replica's copy.
    mirrored = {id(copy): var for _, var in pairs if var is not None for copy in _replicas(var)}
    pairs = [(display, mirrored.get(id(var), var)) for display, var in pairs]
    # A Keras wrapper carries the `.path` name: prefer it wherever it is known.
    wrappers = {id(var): display for display, var in pairs if display is not var}
    result, seen = [], set()
    for display, var in pairs:
        if var is None or id(var) in seen:
            continue
        seen.add(id(var))
        result.append((wrappers.get(id(var), display), var))
    return result


def _replicas(var: Any) -> tuple:
    """The per-replica copies of a ``tf.distribute`` variable (none for a plain one)."""
    import tensorflow as tf

    return tuple(var.values) if isinstance(var, tf.distribute.DistributedValues) else ()


def variable_display_name(display: Any, var: Any) -> str:
    path = getattr(display, "path", None)
    if isinstance(path, str) and path:
        return path
    name = getattr(var, "name", None) or getattr(display, "name", "variable")
    return name[:-2] if name.endswith(":0") else name


def _make_ref(display: Any, var: Any, op_name: str | None) -> VariableRef:
    shape = var.shape
    dims = None if shape.rank is None else tuple(shape.as_list())
    return VariableRef(
        name=variable_display_name(display, var),
        shape=dims,
        dtype=var.dtype.base_dtype.name,
        trainable=bool(getattr(display, "trainable", var.trainable)),
        var=var,
        op_name=op_name,
    )


def _owners(target: Target) -> list:
    """The models and modules that own the loss: the target itself, else module-level ones."""
    import tensorflow as tf

    def owns(value: Any) -> bool:
        return isinstance(value, tf.Module) or _is_keras_layer(value)

    if owns(target.obj):
        return [target.obj]
    if target.module is None:
        return []
    return [v for k, v in vars(target.module).items() if not k.startswith("__") and owns(v)]


def _mark_tracking(target: Target, refs: list[VariableRef]) -> None:
    """Fill each ref's ``created_at`` and ``tracked``."""
    from .sources import LocationResolver

    resolver = LocationResolver(target.source)
    for ref in refs:
        frame = target.created.get(id(ref.var))
        if frame is not None:
            ref.created_at = resolver.location([frame])
        elif getattr(ref.var, "op", None) is not None and target.kind == "tf1":
            try:
                ref.created_at = resolver.location(ref.var.op.traceback)
            except Exception:  # noqa: BLE001 - a variable without a recorded traceback
                ref.created_at = None
    owners = _owners(target) if target.variables is None else []
    if not owners:
        return
    tracked, frozen = set(), set()
    for owner in owners:
        try:
            tracked |= {id(as_tf_variable(v)) for v in owner.trainable_variables}
            # A tf_keras layer with trainable = False keeps its tf.Variables'
            # own flag True; the layer lists them as non-trainable.
            frozen |= {id(as_tf_variable(v)) for v in getattr(owner, "non_trainable_variables", ())}
        except Exception:  # noqa: BLE001 - a half-built owner lists nothing
            continue
    for ref in refs:
        ref.tracked = id(ref.var) in tracked
        if ref.trainable and id(ref.var) in frozen and id(ref.var) not in tracked:
            ref.trainable = False


def _sublayers(owner: Any) -> list:
    """The owner and every layer or module inside it."""
    if _is_keras_layer(owner):
        try:
            return list(owner._flatten_layers(include_self=True, recursive=True))
        except Exception:  # noqa: BLE001 - a Keras without _flatten_layers: the owner alone
            return [owner]
    try:
        return [owner] + list(owner.submodules)
    except Exception:  # noqa: BLE001
        return [owner]


def _own_variables(layer: Any) -> list:
    """The tf.Variables a layer or module holds, its RNG seed states included."""
    try:
        found = list(layer.weights) if _is_keras_layer(layer) else list(layer.variables)
    except Exception:  # noqa: BLE001 - a half-built layer
        found = []
    for gen in getattr(layer, "_seed_generators", None) or ():
        state = getattr(gen, "state", None)
        if state is not None:
            found.append(state)
    return [v for v in (as_tf_variable(w) for w in found) if v is not None]


def _mark_layers(target: Target, refs: list[VariableRef]) -> None:
    """Fill each ref's ``layer`` and ``layer_class``: the smallest layer or module holding it."""
    owners = _owners(target)
    if target.kind == "keras" and target.obj not in owners:
        owners = [target.obj] + owners
    best: dict[int, tuple[int, str, str]] = {}
    for owner in owners:
        for layer in _sublayers(owner):
            own = _own_variables(layer)
            if not own:
                continue
            path = getattr(layer, "path", None)
            name = path if isinstance(path, str) and path else getattr(layer, "name", None) or type(layer).__name__
            for var in own:
                key = id(var)
                if key not in best or len(own) < best[key][0]:
                    best[key] = (len(own), str(name), type(layer).__name__)
    for ref in refs:
        hit = best.get(id(ref.var))
        if hit is not None:
            ref.layer, ref.layer_class = hit[1], hit[2]


def _name_uniquely(refs: list[VariableRef]) -> None:
    """Give repeated names ``#2``, ``#3``... in report order."""
    counts: dict[str, int] = {}
    taken = {r.name for r in refs}
    for ref in refs:
        n = counts.get(ref.name, 0) + 1
        counts[ref.name] = n
        if n > 1:
            candidate = f"{ref.name}#{n}"
            while candidate in taken:
                n += 1
                candidate = f"{ref.name}#{n}"
            taken.add(candidate)
            ref.name = candidate

