"""The TF2 runner: callables and compiled Keras models, one ``tf.function`` step with ``tf.GradientTape``."""

from __future__ import annotations

from typing import Any, Callable

from ..errors import InputsError, TrainOptionsError, UserError
from .batches import split_batch
from .optimizers import clone_keras_optimizer, keras_optimizer, keras_optimizer_info, named_or_given_optimizer
from .record import Recorder
from .result import OptimizerInfo
from .step import WATCH_ATTR, TrainSetup, grad_stats, is_trained, step_failure
from .writers import describe_writer, is_optimizer_write, write_ops_by_variable

__all__ = ["run_eager"]


def _plain_callable(obj: Any) -> Callable:
    """The Python function behind a target, so that the training step traces it afresh."""
    from ..loading import is_tf_function

    if is_tf_function(obj):
        return obj.python_function
    call = getattr(obj, "__call__", None)
    if call is not None and is_tf_function(call):
        return call.python_function
    return obj


def _eager_inputs(value: Any) -> Any:
    import numpy as np
    import tensorflow as tf

    return tf.nest.map_structure(lambda v: tf.constant(v) if isinstance(v, np.ndarray) else v, value)


def run_eager(setup: TrainSetup) -> tuple[Recorder, OptimizerInfo, dict[str, list[str]], list]:
    """Train a callable or compiled Keras target for ``setup.steps`` steps.

    Returns:
        ``(recorder, optimizer info, writers by variable name, watch values per step)``.
    """
    import tensorflow as tf

    from ..tracing import keras_compute_loss

    target = setup.target
    refs = setup.refs
    trained_refs = [r for r in refs if is_trained(r)]
    tvars = [r.var for r in trained_refs]

    # The optimizer
    if setup.optimizer is None and target.kind == "keras" and getattr(target.obj, "optimizer", None) is not None:
        opt = clone_keras_optimizer(target.obj.optimizer, setup.lr)
        info = keras_optimizer_info(opt, "model")
    else:
        opt, info = named_or_given_optimizer(setup, keras_optimizer, "a Keras optimizer")
        if info is None:
            if setup.lr is not None:
                raise TrainOptionsError("give either an optimizer object or lr, not both: set the learning rate on the optimizer.")
            info = keras_optimizer_info(opt, "given")

    if target.kind == "keras":
        fn = keras_compute_loss(target.obj)  # the model is built: trace() ran first

        def call(args: tuple, kwargs: dict) -> Any:
            x, y = args[0], args[1]
            sw = args[2] if len(args) > 2 else None
            return fn(x, y, sw)
    else:
        plain = _plain_callable(target.obj)

        def call(args: tuple, kwargs: dict) -> Any:
            return plain(*args, **kwargs)

    traced_ops: dict[str, list] = {}

    def step(args: tuple, kwargs: dict) -> Any:
        graph = tf.compat.v1.get_default_graph()
        start = len(graph.get_operations())
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            for v in tvars:
                tape.watch(v)
            out = call(args, kwargs)
            out = tf.convert_to_tensor(out)
            loss = out if out.shape.rank == 0 else tf.reduce_sum(out)
        traced_ops["ops"] = graph.get_operations()[start:]
        traced_ops["graph"] = graph
        grads = tape.gradient(loss, tvars) if tvars else []
        stats = {r.name: grad_stats(g) for r, g in zip(trained_refs, grads) if g is not None}
        pairs = [(g, v) for g, v in zip(grads, tvars) if g is not None]
        if pairs:
            opt.apply_gradients(pairs)
        return loss, stats

    step_fn = tf.function(step, reduce_retracing=True)
    watch = _eager_watch(setup.watch)
    recorder = Recorder(refs, {r.name for r in trained_refs})
    recorder.values_at(0, [_read(r.var) for r in refs])
    watch_values = [watch()] if watch else []
    batches = iter(setup.batches) if setup.batches is not None else None
    for k in range(1, setup.steps + 1):
        if batches is not None:
            args, kwargs = split_batch(target, next(batches), setup.batches.label)
        else:
            args, kwargs = tuple(target.args), dict(target.kwargs)
        args, kwargs = _eager_inputs(args), _eager_inputs(kwargs)
        try:
            loss, stats = step_fn(args, kwargs)
        except UserError:
            raise
        except Exception as exc:  # the user's ops failed while training
            raise step_failure(target, k, exc) from exc
        recorder.step_at(k, loss.numpy(), {name: s.numpy() for name, s in stats.items()})
        recorder.values_at(k, [_read(r.var) for r in refs])
        if watch:
            watch_values.append(watch())
        if setup.progress:
            setup.progress(k, recorder.loss[-1])
    writers = _eager_writers(traced_ops, refs, target.source)
    return recorder, info, writers, watch_values


def _read(var: Any) -> Any:
    return var.numpy()


def _eager_writers(traced: dict, refs: list, source: str | None) -> dict[str, list[str]]:
    """Variables the user's code itself writes during the step (``assign`` in the loss, BatchNorm)."""
    graph = traced.get("graph")
    if graph is None:
        return {}
    internal_to_external = {id(internal): external for external, internal in graph.captures}
    by_handle = {id(getattr(r.var, "handle", None)): r.var for r in refs}

    def resolve(tensor: Any) -> Any:
        external = internal_to_external.get(id(tensor))
        return by_handle.get(id(external)) if external is not None else None

    found = write_ops_by_variable(traced.get("ops", []), resolve)
    return {
        r.name: [describe_writer(op, source) for op in found.get(id(r.var), []) if not is_optimizer_write(op)]
        for r in refs
    }


def _eager_watch(watch: dict | None) -> Callable[[], list] | None:
    if not watch:
        return None
    import numpy as np

    items = list(watch.items())
    for label, fn in items:
        if not callable(fn):
            raise InputsError(
                f"`{WATCH_ATTR}[{label!r}]` is a {type(fn).__name__}; each watch must be a function of no "
                "arguments returning a tensor (e.g. lambda: w2 * w3)."
            )

    def evaluate() -> list:
        out = []
        for label, fn in items:
            try:
                value = fn()
            except Exception as exc:  # noqa: BLE001 - the user's watch raised
                raise InputsError(f"`{WATCH_ATTR}[{label!r}]` raised {type(exc).__name__}: {exc}") from exc
            out.append(np.asarray(value.numpy() if hasattr(value, "numpy") else value))
        return out

    return evaluate
