"""Traced gradient calls: analyse the graph being built at the call, and check its values when the step runs.

A ``tape.gradient`` inside a ``tf.function`` (a user's step, Keras' train
function, a ``strategy.run`` step), ``tf.gradients`` and a TF1
``compute_gradients`` are analysed on the graph they were called in
(:func:`traced_report`), through the pipeline of :mod:`gradflow.api`. A traced
step's gradient values are not known at the call: :func:`numeric_slots` adds,
behind one ``tf.cond`` on a flag, a check of each gradient that the step's
first run fills, and :func:`with_values` reads it into the report.
"""

from __future__ import annotations

import time
from typing import Any

from .schema import Status

__all__ = ["traced_report", "numeric_slots", "with_values", "arm", "is_func_graph"]


def _flat(value: Any) -> list:
    import tensorflow as tf

    return tf.nest.flatten(value)


def _is_variable(v: Any) -> bool:
    return hasattr(v, "handle") and hasattr(v, "assign")


def _tf_variable(v: Any) -> Any:
    from .tracing import as_tf_variable

    try:
        return as_tf_variable(v)
    except Exception:  # noqa: BLE001
        return v


def is_func_graph(graph: Any) -> bool:
    from tensorflow.python.framework.func_graph import FuncGraph

    return isinstance(graph, FuncGraph)



def _capture_map(graph: Any) -> dict[int, str]:
    """id(eager handle) -> the op standing for it in ``graph`` (through nested functions' captures)."""
    outer = getattr(graph, "outer_graph", None)
    outer_map = _capture_map(outer) if outer is not None and is_func_graph(outer) else {}
    outer_by_name = {name: key for key, name in outer_map.items()}
    result = {}
    for external, internal in getattr(graph, "captures", ()):
        result[id(external)] = internal.op.name
        name = getattr(getattr(external, "op", None), "name", None)
        if name is not None and name in outer_by_name:
            result[outer_by_name[name]] = internal.op.name
    return result


def traced_report(site: Any, graph: Any, target: Any, sources: list, names: list, results: list,
                  elapsed: float, *, numeric: bool, values: dict | None = None, tf1: bool = False,
                  feed: Any = None) -> Any:
    import tensorflow as tf

    from .autodiff import AutodiffResult, GradFacts, numeric_grad_facts
    from .cuts import annotate_cuts
    from .flowgraph import build_flowgraph
    from .loading import Target
    from .report import Report
    from .tracing import Trace, VariableRef
    from .verdict import stop_gradient_reports, variable_reports

    targets = [t for t in _flat(target) if t is not None]
    notes = []
    if len(targets) == 1:
        loss = targets[0]
    else:
        with graph.as_default(), tf.name_scope("gradflow_targets"):
            loss = tf.add_n([tf.reduce_sum(t) for t in targets])
        notes.append(f"{len(targets)} targets: their gradients add up, as TensorFlow's do")
    captured = {} if tf1 else _capture_map(graph)
    refs = []
    for src, name in zip(sources, names):
        if _is_variable(src) or hasattr(src, "path"):
            var = _tf_variable(src)
            if tf1:
                op_name = var.op.name if getattr(var, "graph", None) is graph else None
            else:
                op_name = captured.get(id(getattr(var, "handle", None)))
        else:
            var = src
            op_name = src.op.name if getattr(src, "graph", None) is graph else None
        shape = var.shape
        refs.append(VariableRef(
            name=name, shape=None if shape.rank is None else tuple(shape.as_list()),
            dtype=var.dtype.base_dtype.name, trainable=bool(getattr(src, "trainable", True)),
            var=var, op_name=op_name))
    tgt = Target(source=site.file, name=site.heading(), kind="tf1" if tf1 else "callable", obj=None,
                 inputs_note="the script's own batch" if numeric else "the script's own tensors (traced)")
    tr = Trace(target=tgt, graph=graph, loss=loss, variables=refs, feed=dict(feed or {}) if tf1 else None)
    timings = {"load_s": 0.0, "trace_s": elapsed, "analysis_s": 0.0, "autodiff_s": 0.0, "render_s": 0.0}
    t0 = time.perf_counter()
    flow, ops = build_flowgraph(tr)
    facts = {}
    for i, (ref, g) in enumerate(zip(refs, results)):
        if g is None:
            facts[ref.name] = GradFacts(True)
        elif values and i in values:
            facts[ref.name] = numeric_grad_facts(values[i])
        else:
            facts[ref.name] = GradFacts(False)
    annotate_cuts(flow, ops)
    variables, mismatches = variable_reports(refs, flow, AutodiffResult(facts, numeric=numeric))
    stops = stop_gradient_reports(flow)
    timings["analysis_s"] = time.perf_counter() - t0
    if not numeric:
        notes.append("traced call: the verdicts are what the call returned while its graph was built; "
                     "no gradient values were computed")
    if mismatches:
        notes.append("gradflow's graph analysis disagrees with TensorFlow (" + "; ".join(mismatches)
                     + "); the verdicts follow TensorFlow. This is a gradflow bug: please report it.")
    return Report(source=site.file, target=site.heading(), kind="tf1" if tf1 else "callable",
                  inputs=tgt.inputs_note, variables=variables, stop_gradients=stops, notes=tuple(notes),
                  numeric=numeric, mismatches=mismatches, timings=timings, flow=flow)


def numeric_slots(results: list, slots: list | None = None) -> list | None:
    """At trace time: per gradient, a variable the step fills with [sum of squares, all finite, any nonzero].

    The checks sit in one ``tf.cond`` on an ``armed`` flag (the list's last
    item) that gradflow clears once it has read them, so later steps pay one
    skipped branch. ``slots``: those of an earlier trace of the same site
    (tf.function traces again after a trace made variables), reused.
    Under a ``tf.distribute`` strategy the variables are plain ones (made
    past the strategy's variable creator) that every replica writes: they
    hold one replica's gradient, on its share of the batch (``replicas``).
    """
    import tensorflow as tf

    def variable(value: Any, dtype: Any, name: str) -> Any:
        from tensorflow.python.ops import resource_variable_ops

        with tf.init_scope():  # ResourceVariable itself skips the strategy's mirroring creator
            return resource_variable_ops.ResourceVariable(value, trainable=False, dtype=dtype, name=name)

    made, pairs = Slots(), []
    made.replicas = tf.distribute.has_strategy() or bool(getattr(slots, "replicas", False))
    for k, g in enumerate(results):
        if g is None:
            made.append(None)
            continue
        if isinstance(g, tf.IndexedSlices):
            g = g.values
        slot = slots[k] if slots is not None and k < len(slots) - 1 else None
        if slot is None:
            slot = variable([float("nan")] * 3, tf.float64, "gradflow_check")
        made.append(slot)
        pairs.append((slot, g))
    if slots is not None:
        armed = slots[-1]
    else:
        armed = variable(True, tf.bool, "gradflow_armed")
    made.append(armed)

    def check():
        for slot, g in pairs:
            g64 = tf.cast(g, tf.float64) if not g.dtype.is_complex else tf.cast(tf.abs(g), tf.float64)
            slot.assign(tf.stack([tf.reduce_sum(tf.square(g64)),
                                  tf.cast(tf.reduce_all(tf.math.is_finite(g64)), tf.float64),
                                  tf.cast(tf.reduce_any(tf.not_equal(g64, 0)), tf.float64)]))
        return tf.constant(True)

    tf.cond(armed, check, lambda: tf.constant(False))
    return made


class Slots(list):
    """The variables of :func:`numeric_slots` (``replicas``: written by every replica of a strategy)."""

    replicas = False


def arm(slots: list) -> None:
    """Have the step's next run fill ``slots`` again (cleared first, so a step that did not run is seen)."""
    import tensorflow as tf

    for slot in slots[:-1]:
        if slot is not None:
            slot.assign(tf.constant([float("nan")] * 3, dtype=tf.float64))
    slots[-1].assign(True)


def with_values(report: Any, slots: list) -> Any:
    """The traced report with the step's gradient values: norms, and ``zero`` / ``nonfinite``."""
    import dataclasses
    import math

    slots[-1].assign(False)  # read once: later steps skip the checks
    variables = []
    for v, slot in zip(report.variables, slots[:-1]):
        if slot is None or v.status in (Status.BLOCKED, Status.DISCONNECTED):
            variables.append(v)
            continue
        squares, finite, nonzero = (float(x) for x in slot.numpy())
        if math.isnan(finite):
            raise RuntimeError("the step did not run")
        if not finite:
            v = dataclasses.replace(v, status=Status.NONFINITE, grad_norm=None,
                                    why="its gradient holds NaN or Inf on this batch", expected=False)
        elif not nonzero:
            v = dataclasses.replace(v, status=Status.ZERO, grad_norm=0.0,
                                    why="its gradient is all zero on this batch", expected=False)
        else:
            norm = math.sqrt(squares)
            v = dataclasses.replace(v, grad_norm=norm if math.isfinite(norm) else None)
        variables.append(v)
    share = (" (under the tf.distribute strategy, one replica's gradient on its share of the batch)"
             if getattr(slots, "replicas", False) else "")
    notes = tuple(n for n in report.notes if not n.startswith("traced call:")) + (
        "traced call: the verdicts are what the call returned while its graph was built; the gradient "
        f"values are those of the step's first run on the script's own batch{share}",)
    return dataclasses.replace(report, variables=tuple(variables), numeric=True, notes=notes,
                               inputs="the script's own batch (traced step)")
