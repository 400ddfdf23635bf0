"""Stage 4: TensorFlow's own answer. Which variables get a gradient, and what is in it.

For a traced function this is ``tf.GradientTape`` around a call of the concrete
function, watching every float variable, exactly what a training step does.
For a TF1 graph it is ``tf.compat.v1.gradients`` run in a fresh session (for
an imported GraphDef, never run, the symbolic gradients alone). The
``None`` / not-``None`` answer decides each verdict; gradflow's graph analysis
only explains it.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from .errors import TraceError, first_line
from .sources import format_user_traceback

__all__ = ["GradFacts", "AutodiffResult", "compute_gradients", "optimized_for_one_run", "one_run_config"]


@dataclass(frozen=True)
class GradFacts:
    """What TensorFlow returned for one variable.

    Attributes:
        is_none: the gradient is None.
        norm: its L2 norm (None when None, not finite, or not computed).
        finite: no NaN or Inf in it (None when not computed).
        all_zero: every element is zero (None when not computed).
    """

    is_none: bool
    norm: float | None = None
    finite: bool | None = None
    all_zero: bool | None = None


@dataclass
class AutodiffResult:
    """Per-variable :class:`GradFacts`, by the report's variable name.

    Attributes:
        error: when TensorFlow's autodiff itself raised (an op with no
            registered gradient, ``PreventGradient``), its message; ``grads``
            is then empty and the verdicts come from the graph alone.
        numeric: whether the gradients were evaluated on the example inputs.
    """

    grads: dict[str, GradFacts]
    loss_value: float | None = None
    error: str | None = None
    numeric: bool = True


def one_run_config(config: Any = None) -> Any:
    """``config`` (a ``tf.compat.v1.ConfigProto``; a new one by default) set for a graph that runs once.

    TensorFlow optimizes a function's graph (Grappler) when it first runs it,
    for the many runs of a training loop. gradflow runs the forward and the
    backward function once each, so it keeps one round of the optimizers
    instead of two and leaves out those that only make later runs faster: the
    memory optimizer (recomputation for memory), the layout optimizer
    (transposes for the device's preferred layout) and the TFG passes
    (sorting, shape annotations, sinking ops into branches). None of them
    changes a value: DenseNet121's gradients are bit-identical, and Grappler's
    time on it drops from 5.8 s to 1.8 s. Every optimizer that rewrites the
    arithmetic (the arithmetic optimizer, the remapper's fused kernels,
    constant folding) still runs its round, so the numeric check sees the
    values a training step would.
    """
    import tensorflow as tf
    from tensorflow.core.protobuf import rewriter_config_pb2

    config = config if config is not None else tf.compat.v1.ConfigProto()
    rewrite = config.graph_options.rewrite_options
    rewrite.meta_optimizer_iterations = rewriter_config_pb2.RewriterConfig.ONE
    rewrite.memory_optimization = rewriter_config_pb2.RewriterConfig.NO_MEM_OPT
    rewrite.layout_optimizer = rewriter_config_pb2.RewriterConfig.OFF
    rewrite.disable_tfg_optimizer = True
    return config


@contextmanager
def optimized_for_one_run() -> Iterator[None]:
    """The functions first called inside the block are optimized for one run (see :func:`one_run_config`).

    A function's graph is optimized once, when it is first called: the block
    changes nothing for a function the caller ran before it.
    """
    import tensorflow as tf
    from tensorflow.python.eager import context

    ctx = context.context()
    before = ctx.function_call_options  # the options a call gets: devices, soft placement...
    config = tf.compat.v1.ConfigProto()
    config.ParseFromString(before.config_proto_serialized or b"")
    ctx.function_call_options = context.FunctionCallOptions(
        executor_type=before.executor_type, config_proto=one_run_config(config))
    try:
        yield
    finally:
        ctx.function_call_options = before


def compute_gradients(trace: Any) -> AutodiffResult:
    """TensorFlow's gradients of the trace's loss for each of its variables."""
    if trace.target.kind == "tf1":
        return _tf1_gradients(trace)
    return _tape_gradients(trace)


def _differentiable(ref: Any) -> bool:
    import tensorflow as tf

    dtype = tf.as_dtype(ref.dtype)  # the variable's value, also for a GraphDef's resource handle
    return dtype.is_floating or dtype.is_complex


def _tape_gradients(trace: Any) -> AutodiffResult:
    import tensorflow as tf

    refs = [r for r in trace.variables if _differentiable(r)]
    try:
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            for ref in refs:
                tape.watch(ref.var)
            loss = trace.concrete(*trace.call_args, **trace.call_kwargs)
    except LookupError as exc:  # building the backward function failed: an autodiff error
        return AutodiffResult({}, error=f"{type(exc).__name__}: {first_line(exc)}")
    except Exception as exc:  # the user's ops failed at run time
        raise TraceError(
            f"running target `{trace.target.name}` on its example inputs raised "
            f"{type(exc).__name__}: {first_line(exc)}. Fix the model file or its example inputs.",
            user_traceback=format_user_traceback(exc),
        ) from exc
    try:
        grads = tape.gradient(loss, [r.var for r in refs])
    except Exception as exc:  # noqa: BLE001 - raised inside TensorFlow's gradient functions: a note
        return AutodiffResult({}, error=f"{type(exc).__name__}: {first_line(exc)}")
    facts = {r.name: GradFacts(True) for r in trace.variables}
    for ref, grad in zip(refs, grads):
        facts[ref.name] = grad_facts(grad)
    return AutodiffResult(facts, loss_value=_scalar(loss))


def _tf1_gradients(trace: Any) -> AutodiffResult:
    """``tf.compat.v1.gradients`` on the graph, evaluated in a session on the feeds.

    A GraphDef is never run: its verdicts are the symbolic gradients alone
    (``numeric=False``).
    """
    import tensorflow as tf

    graph = trace.graph
    refs = [r for r in trace.variables if _differentiable(r) and getattr(r.var, "graph", None) is graph]
    with graph.as_default():
        try:
            # As tf.gradients does for a variable: a ref variable's ref tensor, a
            # resource variable's handle (ReadVariableOp passes the gradient to it).
            grads = tf.compat.v1.gradients(trace.loss, [r.var for r in refs])
        except Exception as exc:  # noqa: BLE001 - e.g. EagerPyFunc's gradient asserts in a GraphDef: a note
            return AutodiffResult({}, error=f"{type(exc).__name__}: {first_line(exc)}")
        if trace.target.origin == "graphdef":
            facts = {r.name: GradFacts(True) for r in trace.variables}
            facts.update((ref.name, GradFacts(g is None)) for ref, g in zip(refs, grads))
            return AutodiffResult(facts, numeric=False)
        init = [
            v.initializer
            for v in tf.compat.v1.global_variables() + tf.compat.v1.local_variables()
        ]
        tables = tf.compat.v1.tables_initializer()
        present = [(ref, g) for ref, g in zip(refs, grads) if g is not None]
        fetches = [dense_gradient(g) for _, g in present]
    facts = {r.name: GradFacts(True) for r in trace.variables}
    try:
        with tf.compat.v1.Session(graph=graph, config=one_run_config()) as session:
            session.run([tables] + init, feed_dict=trace.feed)
            values = session.run([trace.loss] + fetches, feed_dict=trace.feed)
    except Exception as exc:  # the user's graph failed at run time
        raise TraceError(
            f"running the graph of `{trace.target.name}` on its feeds raised "
            f"{type(exc).__name__}: {first_line(exc)}. Fix the graph or `example_feed`.",
            user_traceback=format_user_traceback(exc),
        ) from exc
    for (ref, _), value in zip(present, values[1:]):
        facts[ref.name] = numeric_grad_facts(value)
    return AutodiffResult(facts, loss_value=_scalar(values[0]))


def dense_gradient(grad: Any) -> Any:
    import tensorflow as tf

    return tf.convert_to_tensor(grad) if isinstance(grad, tf.IndexedSlices) else grad


def grad_facts(grad: Any) -> GradFacts:
    if grad is None:
        return GradFacts(True)
    return numeric_grad_facts(dense_gradient(grad).numpy())


def numeric_grad_facts(value: Any) -> GradFacts:
    import numpy as np

    array = np.abs(np.asarray(value)).astype(np.float64, copy=False)
    finite = bool(np.all(np.isfinite(array)))
    norm = float(np.sqrt(np.sum(np.square(array)))) if finite else None
    if norm is not None and not np.isfinite(norm):
        norm = None  # finite elements whose squares overflow float64
    return GradFacts(False, norm=norm, finite=finite, all_zero=bool(finite and not np.any(array)))


def _scalar(value: Any) -> float | None:
    import numpy as np

    try:
        array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
        return float(np.sum(array.real))
    except (TypeError, ValueError):
        return None

