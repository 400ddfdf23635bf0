"""The TF1 runner: a graph's loss, trained in a ``tf.compat.v1.Session``."""

from __future__ import annotations

from typing import Any

from ..errors import InputsError, TraceError, UserError
from .batches import tf1_feed
from .optimizers import named_or_given_optimizer, scalar, tf1_optimizer
from .record import Recorder
from .result import OptimizerInfo
from .step import TRAIN_OP_ATTR, WATCH_ATTR, TrainSetup, grad_stats, is_trained, step_failure
from .writers import describe_writer, is_optimizer_write, write_ops_by_variable

__all__ = ["run_graph"]


def run_graph(setup: TrainSetup, trace: Any) -> tuple[Recorder, OptimizerInfo, dict[str, list[str]], list, dict]:
    """Train a TF1 graph target for ``setup.steps`` steps, with its ``train_op`` or a built optimizer.

    Returns:
        ``(recorder, optimizer info, writers by variable name, watch values per step,
        whether the step updates each variable)``.
    """
    import tensorflow as tf

    target = setup.target
    graph = trace.graph
    refs = setup.refs
    in_graph = [r for r in refs if getattr(r.var, "graph", None) is graph]
    outside = [r.name for r in refs if getattr(r.var, "graph", None) is not graph]
    if outside:
        raise InputsError(
            f"variables {', '.join(outside)} are not in the loss's graph; a TF1 target trains the "
            "variables of its own graph only."
        )
    trained_refs = [r for r in refs if is_trained(r)]
    train_op = setup.train_op
    updated: dict[str, bool] = {}
    with graph.as_default():
        try:
            grads = tf.compat.v1.gradients(trace.loss, [r.var for r in trained_refs]) if trained_refs else []
        except (LookupError, ValueError, TypeError) as exc:
            raise TraceError(f"TensorFlow cannot differentiate the loss of `{target.name}`: {exc}") from exc
        stats = {r.name: grad_stats(g) for r, g in zip(trained_refs, grads) if g is not None}
        if train_op is not None and setup.optimizer is None:
            op = train_op
            info = OptimizerInfo(TRAIN_OP_ATTR, None, "train_op")
            if setup.lr is not None:
                setup.notes.append("the learning rate given is not used: train_op has its own")
        else:
            opt, info = named_or_given_optimizer(setup, tf1_optimizer, "a tf.compat.v1.train.Optimizer")
            if info is None:
                info = OptimizerInfo(type(opt).__name__, scalar(getattr(opt, "_learning_rate", None)), "given")
            pairs = [(g, r.var) for g, r in zip(grads, trained_refs) if g is not None]
            op = opt.apply_gradients(pairs) if pairs else tf.no_op(name="gradflow_nothing_to_train")
        watch_fetches = _tf1_watch(setup.watch, graph)
        init = [v.initializer for v in tf.compat.v1.global_variables() + tf.compat.v1.local_variables()]
        tables = tf.compat.v1.tables_initializer()
        # Which variables does the step write, and how?
        step_ops = _ancestor_ops(op)
        by_op = {r.var.op.name: r.var for r in in_graph}
        found = write_ops_by_variable(step_ops, lambda t: by_op.get(t.op.name))
    writers = {
        r.name: [describe_writer(w, target.source) for w in found.get(id(r.var), []) if not is_optimizer_write(w)]
        for r in refs
    }
    updated = {r.name: bool(found.get(id(r.var))) for r in refs}
    base_feed = dict(trace.feed or {})
    recorder = Recorder(refs, {r.name for r in trained_refs})
    watch_values: list = []
    names = list(stats)
    stat_fetches = [stats[n] for n in names]
    fetch_vars = [r.var for r in refs]
    batches = iter(setup.batches) if setup.batches is not None else None
    try:
        with tf.compat.v1.Session(graph=graph) as session:
            session.run([tables] + init, feed_dict=base_feed)
            recorder.values_at(0, session.run(fetch_vars))
            if watch_fetches:
                watch_values.append(session.run(watch_fetches, feed_dict=base_feed))
            for k in range(1, setup.steps + 1):
                feed = base_feed
                if batches is not None:
                    feed = {**base_feed, **tf1_feed(graph, next(batches), setup.batches.label)}
                loss_value, stat_values = session.run([trace.loss, stat_fetches], feed_dict=feed)
                session.run(op, feed_dict=feed)
                recorder.step_at(k, loss_value, dict(zip(names, stat_values)))
                recorder.values_at(k, session.run(fetch_vars))
                if watch_fetches:
                    watch_values.append(session.run(watch_fetches, feed_dict=feed))
                if setup.progress:
                    setup.progress(k, recorder.loss[-1])
    except UserError:
        raise
    except Exception as exc:  # the user's graph failed while training
        raise step_failure(target, len(recorder.loss) + 1, exc) from exc
    return recorder, info, writers, watch_values, updated


def _ancestor_ops(fetch: Any) -> list:
    """Every op ``fetch`` (an op, a tensor or a list of them) depends on, by data or control."""
    roots = fetch if isinstance(fetch, (list, tuple)) else [fetch]
    stack = [getattr(r, "op", r) for r in roots]
    seen = {id(op): op for op in stack}
    while stack:
        op = stack.pop()
        for parent in [t.op for t in op.inputs] + list(op.control_inputs):
            if id(parent) not in seen:
                seen[id(parent)] = parent
                stack.append(parent)
    return sorted(seen.values(), key=lambda o: o.name)


def _tf1_watch(watch: dict | None, graph: Any) -> list:
    if not watch:
        return []
    import tensorflow as tf

    fetches = []
    for label, value in watch.items():
        if callable(value):
            value = value()
        if not (isinstance(value, tf.Tensor) and getattr(value, "graph", None) is graph):
            raise InputsError(
                f"`{WATCH_ATTR}[{label!r}]` must be a tensor of the loss's graph (e.g. w2 * w3) for a TF1 target."
            )
        fetches.append(value)
    return fetches
