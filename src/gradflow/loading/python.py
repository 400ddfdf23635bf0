"""A Python model file -> :class:`~gradflow.loading.Target`, by the rules of the model-file contract.

The user's module is imported under a unique name with its folder first on
``sys.path``. The target is ``--target NAME``, else the first of ``loss``,
``loss_fn``, ``compute_loss``, else the only module-level ``tf.function`` or
compiled ``keras.Model``; its inputs are ``--inputs NAME``, else
``example_inputs`` (``example_feed`` for a TF1 graph tensor), else synthesised
from an ``input_signature``. Importing runs the user's code, which may change
TensorFlow's process-wide state: :func:`gradflow.loading.tf_state_guard` puts it back.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import itertools
import os
import sys
import types
from typing import Any, Callable

from ..errors import GradflowError, InputsError, ModelFileError, ModelImportError, TargetError, first_line
from ..sources import format_user_traceback
from .inputs import summarize, synthesize_from_signature
from .objects import describe, is_compiled_keras_model, is_graph_tensor, is_keras_model, is_tf_function
from .state import record_variable_creation
from .target import Target

__all__ = ["load_file", "make_target", "python_target", "reset_module_names", "import_model_file",
           "check_model_path", "choose_target", "DEFAULT_TARGETS"]

DEFAULT_TARGETS = ("loss", "loss_fn", "compute_loss")
DEFAULT_INPUTS = "example_inputs"
DEFAULT_FEED = "example_feed"
_module_counter = itertools.count()


def reset_module_names() -> None:
    """Number the user's modules from zero again (``gradflow docs``: each model as in a fresh process)."""
    global _module_counter
    _module_counter = itertools.count()


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
