"""TensorFlow's process-wide state around a model file.

Importing a model file runs the user's code, which may change TensorFlow's
process-wide state (``disable_eager_execution`` and friends): :func:`tf_state_guard`
puts that state back when gradflow is done. Autograph's conversion cache and
variable creation are process-wide too: :func:`forget_autograph_conversions`,
:func:`record_variable_creation`.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Iterator

__all__ = ["tf_state_guard", "forget_autograph_conversions", "record_variable_creation"]


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
    import tensorflow as tf

    from ..sources import caller_frames, innermost_user_frame

    def creator(next_creator: Any, **kwargs: Any) -> Any:
        var = next_creator(**kwargs)
        frame = innermost_user_frame(caller_frames(2))  # less this frame
        if frame is not None:
            created.setdefault(id(var), frame)
        return var

    with tf.variable_creator_scope(creator):
        yield
