"""Stage 1: model file -> :class:`Target`, by the rules of the model-file contract.

The user's module is imported under a unique name with its folder first on
``sys.path``. The target is ``--target NAME``, else the first of ``loss``,
``loss_fn``, ``compute_loss``, else the only module-level ``tf.function`` or
compiled ``keras.Model``. Importing runs the user's code, which may change
TensorFlow's process-wide state (``disable_eager_execution`` and friends):
:func:`tf_state_guard` puts that state back when gradflow is done.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import inspect
import itertools
import os
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Literal

from .errors import GradflowError, InputsError, ModelFileError, ModelImportError, TargetError, first_line
from .sources import format_user_traceback
from .schema import shape_text

__all__ = ["Target", "load_file", "make_target", "python_target", "tf_state_guard", "DEFAULT_TARGETS"]

DEFAULT_TARGETS = ("loss", "loss_fn", "compute_loss")
DEFAULT_INPUTS = "example_inputs"
DEFAULT_FEED = "example_feed"
SEED = 0
UNKNOWN_DIM = 2

TargetKind = Literal["callable", "keras", "tf1"]
Origin = Literal["python", "saved_model", "graphdef"]
_module_counter = itertools.count()


@dataclass(frozen=True)
class Target:
    """What to differentiate, with what inputs.

    Attributes:
        source: the model file as the user gave it, or None for the Python API.
        name: the target's attribute name (or a description for the Python API).
        kind: ``"callable"``, ``"keras"`` (a compiled model) or ``"tf1"`` (a graph tensor).
        obj: the callable, model or loss tensor; for a SavedModel, the restored
            concrete function.
        args, kwargs: the example inputs (callable and keras kinds).
        feed: placeholder tensor -> value (tf1 kind); filled in while tracing.
        inputs_note: how the inputs were obtained, for the report header.
        variables: an explicit variable list (the module's ``variables``, a
            SavedModel's restored variables, a GraphDef's
            :class:`~gradflow.formats.GraphVariable` s), or None.
        module: the imported module, searched for module-level variables.
        created: id(tf.Variable) -> (file, line) of the user's code that created
            it, filled while the module is imported and the target traced.
        origin: what the user gave: a Python model file (or the Python API), a
            SavedModel directory, or a GraphDef, which is analysed without running.
        output: the key of the loss in a function's dict of outputs (a SavedModel
            signature), or None when the function returns the loss itself.
        notes: what the report should say about where the target came from.
    """

    source: str | None
    name: str
    kind: TargetKind
    obj: Any
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    feed: dict | None = None
    inputs_note: str = ""
    variables: tuple | None = None
    module: types.ModuleType | None = None
    created: dict = field(default_factory=dict, compare=False, repr=False)
    origin: Origin = "python"
    output: str | None = None
    notes: tuple[str, ...] = ()


# ---------------------------------------------------------------------------
# TensorFlow's process-wide state


@contextlib.contextmanager
def tf_state_guard() -> Iterator[None]:
    """Restore TensorFlow's global execution state on exit.

    A TF1-style model file calls ``tf.compat.v1.disable_eager_execution()`` or
    ``disable_v2_behavior()`` at import, a mixed-precision one sets Keras's
    global dtype policy. Those flip module-level switches; this puts every
    one of them back, so that the next model (in a test run, a
    notebook, ``gradflow docs``) starts from the state the process had.
    """
    import tensorflow as tf
    from tensorflow.python import tf2
    from tensorflow.python.eager import context
    from tensorflow.python.framework import tensor, tensor_shape
    from tensorflow.python.ops import control_flow_util, resource_variables_toggle

    ctx = context.context()
    keras_module = sys.modules.get("keras")  # not imported here: Keras is the user file's choice
    policy = keras_module.mixed_precision.global_policy() if keras_module is not None else None
    saved = (
        context.default_execution_mode,
        ctx._thread_local_data.is_eager,
        tf.config.functions_run_eagerly(),
        tf2.enabled(),
        tensor_shape._TENSORSHAPE_V2_OVERRIDE,
        resource_variables_toggle._DEFAULT_USE_RESOURCE,
        tensor.Tensor._USE_EQUALITY,
        control_flow_util.ENABLE_CONTROL_FLOW_V2,
    )
    try:
        yield
    finally:
        (mode, is_eager, run_eagerly, v2, shape_v2, use_resource, equality, cf_v2) = saved
        context.default_execution_mode = mode
        ctx._thread_local_data.is_eager = is_eager
        tf.config.run_functions_eagerly(run_eagerly)
        (tf2.enable if v2 else tf2.disable)()
        tensor_shape._TENSORSHAPE_V2_OVERRIDE = shape_v2
        resource_variables_toggle._DEFAULT_USE_RESOURCE = use_resource
        tensor.Tensor._USE_EQUALITY = equality
        control_flow_util.ENABLE_CONTROL_FLOW_V2 = cf_v2
        keras_module = sys.modules.get("keras")
        if keras_module is not None:  # a mixed_float16 file must not leave its policy behind
            keras_module.mixed_precision.set_global_policy(policy if policy is not None else "float32")


def forget_autograph_conversions() -> None:
    """Empty autograph's cache of converted functions before a new model file.

    Autograph caches by code object, and Python's code objects compare equal
    when only their file differs: two model files with the same function at
    the same lines would share one conversion, and the second file's ops would
    carry the first file's lines. (TensorFlow-internal; left alone if absent.)
    """
    try:
        from tensorflow.python.autograph.impl import api as autograph_api
        from tensorflow.python.autograph.pyct import cache

        autograph_api._TRANSPILER._cache = cache.CodeObjectCache()
    except Exception:  # noqa: BLE001 - another TensorFlow layout: keep its cache
        pass


@contextlib.contextmanager
def record_variable_creation(created: dict) -> Iterator[None]:
    """Remember the user's line that creates each variable (eager and tf.function alike)."""
    import traceback

    import tensorflow as tf

    from .sources import innermost_user_frame

    def creator(next_creator: Any, **kwargs: Any) -> Any:
        var = next_creator(**kwargs)
        frame = innermost_user_frame(traceback.extract_stack()[:-1])  # less this frame
        if frame is not None:
            created.setdefault(id(var), frame)
        return var

    with tf.variable_creator_scope(creator):
        yield


# ---------------------------------------------------------------------------
# Importing the user's file


def check_model_path(path: str) -> None:
    """Raise :class:`ModelFileError` unless ``path`` is an existing ``.py`` file."""
    if not os.path.exists(path):
        raise ModelFileError(f"{path}: no such file. Give the path of a Python model file.")
    if os.path.isdir(path):
        raise ModelFileError(f"{path} is a directory. Give the path of a Python model file (FILE.py).")
    if not path.endswith(".py"):
        raise ModelFileError(
            f"{path} is not a Python file. gradflow inspects a model file ending in .py "
            "that defines a loss (see `gradflow inspect --help`)."
        )


def import_model_file(path: str) -> types.ModuleType:
    """Import ``path`` as a fresh module with its folder first on ``sys.path``.

    Raises:
        ModelFileError: the file is missing or not a Python file.
        ModelImportError: the module raised; the user's frames are attached.
    """
    check_model_path(path)
    folder = os.path.dirname(os.path.abspath(path))
    stem = os.path.splitext(os.path.basename(path))[0]
    name = f"gradflow_user_{stem}_{next(_module_counter)}"
    spec = importlib.util.spec_from_file_location(name, os.path.abspath(path))
    if spec is None or spec.loader is None:
        raise ModelFileError(f"{path} cannot be imported as a Python module.")
    module = importlib.util.module_from_spec(spec)
    old_argv, old_path = sys.argv, list(sys.path)
    sys.argv = [path]
    sys.path.insert(0, folder)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ModelImportError(
            f"{path} is not valid Python: {exc.msg} (line {exc.lineno}). Fix the syntax error.",
            user_traceback=format_user_traceback(exc),
        ) from exc
    except GradflowError as exc:  # gradflow's own verdict on the import (the model called os._exit)
        if getattr(exc, "user_traceback", "") is None:
            exc.user_traceback = format_user_traceback(exc)  # the line that called it
        raise
    except (Exception, SystemExit) as exc:
        raise ModelImportError(
            f"importing {path} raised {type(exc).__name__}: {first_line(exc)}. "
            "Fix the error in the model file (your frames are shown below).",
            user_traceback=format_user_traceback(exc),
        ) from exc
    finally:
        sys.argv = old_argv
        sys.path[:] = old_path
    return module


# ---------------------------------------------------------------------------
# Kinds of objects


def is_tf_function(obj: Any) -> bool:
    import tensorflow as tf

    return isinstance(obj, tf.types.experimental.PolymorphicFunction)


def keras_model_classes() -> tuple[type, ...]:
    """``keras.Model`` (Keras 3), plus ``tf_keras.Model`` (Keras 2) when the user's code imported it."""
    classes = []
    try:
        import keras

        classes.append(keras.Model)
    except ImportError:  # pragma: no cover - keras ships with tensorflow
        pass
    legacy = sys.modules.get("tf_keras")  # never imported here: only a file that uses it has it
    if legacy is not None and hasattr(legacy, "Model"):
        classes.append(legacy.Model)
    return tuple(classes)


def is_keras_model(obj: Any) -> bool:
    return isinstance(obj, keras_model_classes())


def is_compiled_keras_model(obj: Any) -> bool:
    return is_keras_model(obj) and bool(getattr(obj, "compiled", False) or getattr(obj, "optimizer", None))


def is_graph_tensor(obj: Any) -> bool:
    """A symbolic tensor of a ``tf.Graph`` (the TF1 style), not an eager one."""
    import tensorflow as tf

    return isinstance(obj, tf.Tensor) and not hasattr(obj, "numpy") and not _in_func_graph(obj)


def _in_func_graph(t: Any) -> bool:
    return bool(getattr(getattr(t, "graph", None), "building_function", False))


def describe(obj: Any) -> str:
    """A short description of what an attribute holds, for error messages."""
    if is_tf_function(obj):
        return "tf.function"
    if is_keras_model(obj):
        return "compiled keras.Model" if is_compiled_keras_model(obj) else "keras.Model (not compiled)"
    if is_graph_tensor(obj):
        return "graph tensor"
    return type(obj).__name__


# ---------------------------------------------------------------------------
# Choosing the target


def choose_target(module: types.ModuleType, name: str | None, path: str) -> tuple[str, Any]:
    """The contract's target rules; returns ``(attribute name, object)``."""
    if name is not None:
        if not hasattr(module, name):
            candidates = ", ".join(_candidates(module)) or "none"
            raise TargetError(
                f"{path} has no attribute `{name}`. Candidates found: {candidates}. "
                "Pass one of them with --target NAME."
            )
        return name, getattr(module, name)
    for attr in DEFAULT_TARGETS:
        if hasattr(module, attr):
            return attr, getattr(module, attr)
    found = _candidates(module)
    if len(found) == 1:
        return found[0], getattr(module, found[0])
    if not found:
        raise TargetError(
            f"{path} defines no target: no `loss`, `loss_fn` or `compute_loss`, and no "
            "module-level tf.function or compiled keras.Model. Define `loss` (a function "
            "returning a scalar loss, or a TF1 loss tensor) or pass --target NAME."
        )
    raise TargetError(
        f"{path} has several candidate targets: {', '.join(found)}. "
        "Choose one with --target NAME, or name it `loss`."
    )


def _candidates(module: types.ModuleType) -> list[str]:
    return [
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_") and (is_tf_function(value) or is_compiled_keras_model(value))
    ]


# ---------------------------------------------------------------------------
# Inputs


def make_target(
    obj: Any,
    *,
    name: str,
    source: str | None = None,
    module: types.ModuleType | None = None,
    inputs: Any = None,
    has_inputs: bool = False,
    inputs_label: str = DEFAULT_INPUTS,
    variables: Any = None,
) -> Target:
    """Classify ``obj`` and attach its example inputs.

    Args:
        obj: a callable, a compiled keras.Model or a TF1 graph tensor.
        name: how the report names the target.
        inputs: the example inputs, when ``has_inputs``.
        inputs_label: where the inputs came from, for messages.
        variables: an explicit list of variables, or None to search.
    """
    explicit = tuple(variables) if variables is not None else None
    common = dict(source=source, name=name, obj=obj, module=module, variables=explicit)
    where = source or "the Python API"
    if is_keras_model(obj):
        if not is_compiled_keras_model(obj):
            raise TargetError(
                f"target `{name}` is a keras.Model that is not compiled, so it has no loss. "
                "Call model.compile(loss=..., optimizer=...) in the file, or define a `loss` "
                "function that calls the model."
            )
        if not has_inputs:
            raise InputsError(
                f"target `{name}` is a compiled keras.Model; gradflow needs `{inputs_label} = (x, y)` "
                f"in {where} to compute its loss. Define it, or name another attribute with --inputs."
            )
        if not isinstance(inputs, (tuple, list)) or len(inputs) not in (2, 3):
            raise InputsError(
                f"`{inputs_label}` must be a tuple (x, y) or (x, y, sample_weight) for a compiled "
                f"keras.Model; got {type(inputs).__name__}."
            )
        return Target(kind="keras", args=tuple(inputs), inputs_note=f"{inputs_label}: {summarize(inputs)}", **common)
    if is_graph_tensor(obj):
        feed = None
        note = "placeholders synthesised from their shapes"
        if has_inputs:
            if not isinstance(inputs, dict):
                raise InputsError(
                    f"`{inputs_label}` must be a dict placeholder -> array for a TF1 graph target; "
                    f"got {type(inputs).__name__}."
                )
            feed = dict(inputs)
            note = f"{inputs_label}: {len(feed)} placeholder(s)"
        return Target(kind="tf1", feed=feed, inputs_note=note, **common)
    if isinstance(obj, types.ModuleType) or not callable(obj):
        raise TargetError(
            f"target `{name}` is a {describe(obj)}, not something gradflow can differentiate. "
            "The target must be a function returning a scalar loss, a compiled keras.Model, "
            "or a TF1 loss tensor."
        )
    if has_inputs:
        if isinstance(inputs, tuple):
            args, kwargs = inputs, {}
        elif isinstance(inputs, dict):
            args, kwargs = (), dict(inputs)
        else:
            args, kwargs = (inputs,), {}
        return Target(kind="callable", args=args, kwargs=kwargs,
                      inputs_note=f"{inputs_label}: {summarize(inputs)}", **common)
    signature = getattr(obj, "input_signature", None) if is_tf_function(obj) else None
    if signature:  # a zero-argument tf.function has the empty signature (): nothing to synthesise
        args = synthesize_from_signature(signature)
        return Target(kind="callable", args=args,
                      inputs_note=f"synthesised from input_signature: {summarize(args)}", **common)
    required = _required_parameters(obj)
    if required:
        raise InputsError(
            f"target `{name}` takes argument(s) {', '.join(required)} but {where} defines no "
            f"`{inputs_label}` and the function has no input_signature. Define "
            f"`{inputs_label} = (...)` (a tuple of positional arguments, one tensor, or a dict "
            "of keyword arguments), or give the tf.function an input_signature."
        )
    return Target(kind="callable", inputs_note="none (the target takes no arguments)", **common)


def python_target(obj: Any, example_args: tuple, example_kwargs: dict, *, variables: Any = None,
                  feed_dict: dict | None = None, name: str | None = None) -> Target:
    """A :class:`Target` from the Python API's arguments (``gradflow.inspect``, ``gradflow.train``)."""
    label = name or getattr(obj, "__name__", None) or getattr(obj, "name", None) or type(obj).__name__
    if feed_dict is not None:
        return make_target(obj, name=label, inputs=feed_dict, has_inputs=True,
                           inputs_label="feed_dict", variables=variables)
    target = make_target(obj, name=label, inputs=tuple(example_args), variables=variables,
                         has_inputs=bool(example_args or example_kwargs), inputs_label="example inputs")
    if example_kwargs:
        target = dataclasses.replace(target, kwargs=dict(example_kwargs))
    return target


def _required_parameters(obj: Any) -> list[str]:
    func = getattr(obj, "python_function", None) or obj
    if not inspect.isfunction(func) and not inspect.ismethod(func) and hasattr(func, "__call__"):
        func = func.__call__
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in sig.parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def synthesize_from_signature(signature: Any) -> tuple:
    """Values for a tf.function's ``input_signature``: unknown dims 2, floats N(0, 1)."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(SEED)

    def one(spec: Any) -> Any:
        if not isinstance(spec, tf.TensorSpec):
            raise InputsError(
                f"cannot synthesise an input for {spec!r}; define `example_inputs` in the model file."
            )
        return tf.constant(synthesize_value(spec.shape, spec.dtype, rng))

    return tuple(tf.nest.map_structure(one, tuple(signature)))


def synthesize_value(shape: Any, dtype: Any, rng: Any) -> Any:
    """One array of ``shape``/``dtype``: floats standard normal, ints 0, bools False.

    Raises:
        InputsError: the array would be too big to allocate (says how big, and how to give smaller inputs).
    """
    import tensorflow as tf

    dtype = tf.as_dtype(dtype)
    if shape is None or getattr(shape, "rank", 0) is None:
        dims: list[int] = [UNKNOWN_DIM]
    else:
        dims = [UNKNOWN_DIM if d is None else int(d) for d in tf.TensorShape(shape).as_list()]
    _check_synthesis_size(dims, dtype)
    try:
        return _synthesize(dims, dtype, rng)
    except MemoryError:
        raise _too_big(dims, dtype) from None


# Synthesised example inputs larger than this are refused with a message (not a MemoryError).
MAX_SYNTHESIS_BYTES = 2 ** 31


def _too_big(dims: list, dtype: Any) -> InputsError:
    import math

    size = math.prod(dims) * max(1, dtype.size)
    shape = "[" + ", ".join(map(str, dims)) + "]"
    return InputsError(
        f"synthesising an example input of shape {shape} ({dtype.name}) needs {size / 2 ** 30:.3g} GiB, "
        f"more than gradflow allocates ({MAX_SYNTHESIS_BYTES / 2 ** 30:.3g} GiB). Give smaller inputs: define "
        "`example_inputs` in the model file, or use smaller (or None) dimensions in the input_signature."
    )


def _check_synthesis_size(dims: list, dtype: Any) -> None:
    import math

    if math.prod(dims) * max(1, dtype.size) > MAX_SYNTHESIS_BYTES:
        raise _too_big(dims, dtype)


def _synthesize(dims: list, dtype: Any, rng: Any) -> Any:
    import numpy as np
    import tensorflow as tf

    if dtype.is_floating or dtype.is_complex:
        return rng.standard_normal(dims).astype(dtype.as_numpy_dtype)
    if dtype.is_bool:
        return np.zeros(dims, dtype=bool)
    if dtype == tf.string:
        return np.full(dims, b"", dtype=object)
    return np.zeros(dims, dtype=dtype.as_numpy_dtype)


def summarize(value: Any) -> str:
    """A short shape/dtype description of an input structure: ``(float32[4, 5], int32[4])``."""

    def one(v: Any) -> str:
        shape = getattr(v, "shape", None)
        dtype = getattr(v, "dtype", None)
        if shape is not None and dtype is not None:
            dname = getattr(dtype, "name", None) or str(dtype)
            return f"{dname}{shape_text(tuple(shape))}"
        text = repr(v)
        return text if len(text) <= 24 else text[:21] + "..."

    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {summarize(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(summarize(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    return one(value)


# ---------------------------------------------------------------------------
# The whole stage


def load_file(path: str, *, target: str | None = None, inputs: str | None = None,
              fallback_inputs: Callable[[types.ModuleType, Any], tuple[str, Any] | None] | None = None) -> Target:
    """Import a model file and pick its target and inputs (the contract's rules).

    Args:
        path: the model file, as the user named it.
        target: ``--target NAME``, or None for the default order.
        inputs: ``--inputs NAME``, or None for ``example_inputs`` (``example_feed``
            for a TF1 graph target).
        fallback_inputs: when the module has no such attribute, called with the
            module and the target object; a ``(label, inputs)`` pair it returns
            stands in (``gradflow train``: the first of ``example_batches``).

    Raises:
        UserError: a subclass naming the problem and its fix.
    """
    created: dict = {}
    with record_variable_creation(created):
        module = import_model_file(path)
    name, obj = choose_target(module, target, path)
    if inputs is not None and not hasattr(module, inputs):
        raise InputsError(f"{path} has no attribute `{inputs}` (given with --inputs). Define it or drop --inputs.")
    label = inputs or (DEFAULT_FEED if is_graph_tensor(obj) else DEFAULT_INPUTS)
    has_inputs, value = hasattr(module, label), getattr(module, label, None)
    if not has_inputs and fallback_inputs is not None:
        fallback = fallback_inputs(module, obj)
        if fallback is not None:
            (label, value), has_inputs = fallback, True
    variables = getattr(module, "variables", None)
    if variables is not None and not isinstance(variables, (list, tuple)):
        variables = None  # e.g. `from tensorflow import variables`; only a list replaces the search
    result = make_target(
        obj,
        name=name,
        source=path,
        module=module,
        inputs=value,
        has_inputs=has_inputs,
        inputs_label=label,
        variables=variables,
    )
    result.created.update(created)
    return result
