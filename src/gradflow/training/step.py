"""What both runners share: the run's setup, which variables train, gradient statistics, a failed step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import TraceError, first_line
from .batches import Batches

__all__ = ["WATCH_ATTR", "TRAIN_OP_ATTR", "TrainSetup", "is_trained", "grad_stats", "step_failure"]

WATCH_ATTR = "train_watch"
TRAIN_OP_ATTR = "train_op"


@dataclass
class TrainSetup:
    """What both runners need."""

    target: Any
    refs: list
    static: Any
    steps: int
    batches: Batches | None
    optimizer: Any  # "sgd" | ... | an optimizer object | None (the model's / train_op)
    lr: float | None
    watch: dict | None
    train_op: Any
    progress: Callable[[int, float], None] | None
    notes: list
    start_values: list = field(default_factory=list)  # (tf.Variable, value) before training


def is_trained(ref: Any) -> bool:
    """Whether the optimizer is given the variable: trainable, and float or complex."""
    dtype = ref.var.dtype.base_dtype
    return bool(ref.trainable) and (dtype.is_floating or dtype.is_complex)


def grad_stats(g: Any) -> Any:
    """A float64 tensor ``[norm, abs_mean, abs_max, finite]`` of the gradient ``g``."""
    import tensorflow as tf

    if isinstance(g, tf.IndexedSlices):
        g = tf.convert_to_tensor(g)
    a = tf.cast(tf.abs(g), tf.float64)
    if a.shape.num_elements() == 0:
        zero = tf.constant(0.0, tf.float64)
        return tf.stack([zero, zero, zero, tf.constant(1.0, tf.float64)])
    finite = tf.cast(tf.reduce_all(tf.math.is_finite(a)), tf.float64)
    return tf.stack([tf.sqrt(tf.reduce_sum(tf.square(a))), tf.reduce_mean(a), tf.reduce_max(a), finite])


def step_failure(target: Any, step: int, exc: Exception) -> TraceError:
    """The error for a training step that raised: its number, the exception's first line, the user's traceback."""
    from ..sources import format_user_traceback

    return TraceError(
        f"training step {step} of target `{target.name}` raised {type(exc).__name__}: {first_line(exc)}. "
        "Fix the model file (or its batches).",
        user_traceback=format_user_traceback(exc),
    )
