"""Kinds of objects a model file holds: tf.function, Keras model, TF1 graph tensor.

Only asks TensorFlow and Keras (never imports Keras 2 itself: ``tf_keras``
counts only when the user's code imported it).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["is_tf_function", "keras_model_classes", "is_keras_model", "is_compiled_keras_model",
           "is_graph_tensor", "describe"]


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
