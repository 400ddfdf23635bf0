"""The optimizer of a run: checking the options, building a named one, describing a given one."""

from __future__ import annotations

import math
from typing import Any

from ..errors import TrainOptionsError
from .result import OptimizerInfo

__all__ = ["OPTIMIZERS", "DEFAULT_LR", "DEFAULT_OPTIMIZER", "check_options", "named_or_given_optimizer",
           "keras_optimizer", "tf1_optimizer", "scalar", "keras_optimizer_info", "clone_keras_optimizer"]

OPTIMIZERS = ("sgd", "adam", "rmsprop")
DEFAULT_LR = 0.1
DEFAULT_OPTIMIZER = "sgd"


def check_options(steps: Any, optimizer: Any, lr: Any) -> None:
    """Raise :class:`TrainOptionsError` for ``--steps``, ``--optimizer`` or ``--lr`` that make no sense."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise TrainOptionsError(f"--steps must be a whole number of at least 1; got {steps!r}.")
    if isinstance(optimizer, str) and optimizer not in OPTIMIZERS:
        raise TrainOptionsError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}.")
    if lr is not None and (not isinstance(lr, (int, float)) or isinstance(lr, bool)
                           or not math.isfinite(lr) or lr <= 0):
        raise TrainOptionsError(f"--lr must be a positive finite number; got {lr!r}.")


def named_or_given_optimizer(setup: Any, make: Any, accepted: str) -> tuple[Any, Any]:
    """A named optimizer built by ``make(kind, lr)``, or the given object checked.

    Returns ``(optimizer, info)``; ``info`` is None for a given object, which
    the caller (Keras or TF1) describes in its own way.
    """
    if setup.optimizer is None or isinstance(setup.optimizer, str):
        kind = setup.optimizer or DEFAULT_OPTIMIZER
        lr = setup.lr if setup.lr is not None else DEFAULT_LR
        return make(kind, lr), OptimizerInfo(kind, lr, "gradflow")
    opt = setup.optimizer
    if not hasattr(opt, "apply_gradients"):
        raise TrainOptionsError(
            f"optimizer must be 'sgd', 'adam', 'rmsprop' or {accepted}; got {type(opt).__name__}."
        )
    return opt, None


def keras_optimizer(kind: str, lr: float) -> Any:
    """A fresh Keras optimizer of ``kind`` (``sgd``, ``adam``, ``rmsprop``)."""
    import keras

    cls = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}[kind]
    return cls(learning_rate=lr)


def tf1_optimizer(kind: str, lr: float) -> Any:
    """A fresh ``tf.compat.v1.train`` optimizer of ``kind`` (``sgd``, ``adam``, ``rmsprop``)."""
    import tensorflow as tf

    train = tf.compat.v1.train
    cls = {"sgd": train.GradientDescentOptimizer, "adam": train.AdamOptimizer,
           "rmsprop": train.RMSPropOptimizer}[kind]
    return cls(lr)


def scalar(value: Any) -> float | None:
    """``value`` (a number, a tensor, a variable) as a float, or None when it is not one number."""
    try:
        if hasattr(value, "numpy"):
            value = value.numpy()
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out


def keras_optimizer_info(opt: Any, origin: str) -> OptimizerInfo:
    """What a Keras optimizer object is: class name, learning rate, weight decay."""
    lr = None
    try:
        lr = scalar(opt.learning_rate)
    except Exception:  # noqa: BLE001 - a schedule that needs a step
        lr = None
    return OptimizerInfo(name=type(opt).__name__, learning_rate=lr, origin=origin, weight_decay=scalar(getattr(opt, "weight_decay", None)))


def clone_keras_optimizer(opt: Any, lr: float | None) -> Any:
    """A fresh optimizer with the same class and configuration (its state starts empty)."""
    config = opt.get_config()
    if lr is not None:
        config["learning_rate"] = lr
    try:
        return type(opt).from_config(config)
    except Exception:  # noqa: BLE001 - a custom optimizer that cannot round-trip its config
        return opt
