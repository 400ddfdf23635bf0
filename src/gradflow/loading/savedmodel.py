"""A SavedModel directory -> :class:`~gradflow.loading.Target`.

``tf.saved_model.load`` restores the object, and the target is one of the
functions it exports (``--function NAME``: an attribute path such as ``loss``
or ``model.loss``, or a signature key). Its inputs are synthesised from the
restored function's input signature, and its variables are every variable
the SavedModel restores. A SavedModel keeps no Python source lines, so every
location in its report is null, and the report's notes say so.
"""

from __future__ import annotations

from typing import Any

from ..errors import ModelFileError, TargetError, first_line
from .inputs import SEED, summarize, synthesize_value
from .objects import describe, is_tf_function
from .target import NO_SOURCE, Target, listing

__all__ = ["load_saved_model", "public_objects", "exported_functions", "restored_variables"]


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
    listed = listing(names)
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
