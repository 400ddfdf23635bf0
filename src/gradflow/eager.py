"""Eager ``tape.gradient``: record the ops a tape sees, rebuild them as a graph, analyse it like traced code.

While a ``tf.GradientTape`` records eagerly, :class:`Recorder` listens to
TensorFlow's op callbacks and keeps, per op, its type, attributes, input and
output tensors (by TensorFlow's tensor id), name scope and creation stack.

At the gradient call, :func:`eager_report` rebuilds the ops between the
sources and the target as a ``FuncGraph`` (same op types, same attributes, the
recorded shapes): a tensor no recorded op made becomes a placeholder (or, when
small, a constant of its value); a variable's handle becomes a resource
placeholder that stands for the variable, as a captured handle does in a
traced step. That graph then goes through the pipeline ``inspect`` uses
(:mod:`gradflow.flowgraph`, :mod:`gradflow.cuts`, :mod:`gradflow.verdict`):
path counts, decisive cuts, origins and fixes are computed the same way; each
node's location and origin come from the recorded creation stack.

The verdict is still TensorFlow's: the gradient call's own results decide
``blocked`` / ``disconnected`` against a tensor. Should the rebuild fail (an
op TensorFlow cannot re-create in a graph), :func:`walk_report` analyses the
record directly: cuts are named, but paths are not counted.
"""

from __future__ import annotations

import re
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from .schema import Blocker, Location, PathCount, Status, VariableReport

__all__ = ["OpRecord", "Recorder", "eager_report", "walk_report", "tid"]

# A tensor no recorded op made is rebuilt as a constant of its value when it has at most
# this many elements (shapes, axes, indices: gradient functions read them), else a placeholder.
CONST_LIMIT = 64


def tid(t: Any) -> Any:
    """TensorFlow's id of an eager tensor (unique in the process), else ``id()``."""
    value = getattr(t, "_id", None)
    return value if value is not None else id(t)


@dataclass
class OpRecord:
    """One op TensorFlow ran while a tape recorded.

    Attributes:
        type: the op type (``MatMul``), or a function's name for a ``tf.function`` call.
        inputs: the ids of its input tensors.
        outputs: its output tensors (kept alive until the tape's gradient call).
        attrs: the attributes, as TensorFlow hands them to op callbacks (name, value, ...).
        frames: the creation stack, outermost first.
        scope: the eager name scope it ran in ("" at top level).
    """

    type: str
    inputs: tuple
    outputs: tuple
    attrs: tuple
    frames: list
    scope: str


class Recorder:
    """The ops TensorFlow runs eagerly while gradflow watches a recording tape.

    ``skip()`` tells the op callback to ignore an op (gradflow's own work).
    """

    def __init__(self, skip: Callable[[], bool]) -> None:
        self.skip = skip
        self.records: list[OpRecord] | None = None
        self.reads: dict = {}  # handle id -> ids of values read from it without an op callback
        self.produced: set = set()
        self.external: dict = {}  # id -> tensor, for inputs no recorded op made
        self.starts: dict[int, int] = {}  # id(tape) -> its first record
        self.ends: dict[int, int] = {}  # id(tape) -> the record after its last (once it has exited)
        self.functions: list = []  # (tf.function, args, kwargs) called eagerly while recording
        self._callback: Any = None

    @property
    def active(self) -> bool:
        return self.records is not None

    def start(self, tape: Any) -> None:
        if self.records is None:
            self.records = []
        if self._callback is None:
            self._install()
        self.starts[id(tape)] = len(self.records)
        self.ends.pop(id(tape), None)

    def exit(self, tape: Any) -> None:
        """The tape stopped recording: its record ends here; no tape recording, no op callback."""
        if self.records is None or id(tape) not in self.starts:
            return
        self.ends[id(tape)] = len(self.records)
        if all(key in self.ends for key in self.starts):
            self._uninstall()  # a persistent tape's record is kept for its later gradient calls

    def records_of(self, tape: Any) -> list[OpRecord]:
        if tape is None or self.records is None or id(tape) not in self.starts:
            return []
        return self.records[self.starts[id(tape)]:self.ends.get(id(tape))]

    def forget(self, tape: Any) -> None:
        """The tape's site is analysed: stop recording for it (and altogether when no tape is left)."""
        if id(tape) in self.starts and not getattr(tape, "_persistent", False):
            del self.starts[id(tape)]
            self.ends.pop(id(tape), None)
        if not self.starts:
            self.stop()

    def note_read(self, handle: Any, value: Any) -> None:
        """A variable read TensorFlow may run in C, where no op callback sees it."""
        if self.records is not None:
            self.reads.setdefault(tid(handle), set()).add(tid(value))

    def note_function(self, fn: Any, args: tuple, kwargs: dict) -> None:
        """A ``tf.function`` called eagerly while recording: its traced graph has the body's source lines."""
        self.functions.append((fn, args, kwargs))

    def function_graph(self, runtime_name: str) -> Any:
        """The traced graph of the ``tf.function`` TensorFlow ran as ``runtime_name`` (``__forward_step_42``), or None."""
        for fn, args, kwargs in reversed(self.functions):
            name = getattr(fn, "__name__", None) or getattr(fn, "_name", "")
            if not name or f"_{name}_" not in runtime_name:
                continue
            try:
                return fn.get_concrete_function(*args, **kwargs).graph  # the cached trace: no new tracing
            except Exception:  # noqa: BLE001
                return None
        return None

    def _install(self) -> None:
        from tensorflow.python.eager import context
        from tensorflow.python.framework import op_callbacks

        me = self
        ctx = context.context()

        def callback(op_type, inputs, attrs, outputs, op_name=None, graph=None):
            if graph is not None or me.records is None or me.skip():
                return None
            ins = tuple(tid(t) for t in inputs)
            for t, i in zip(inputs, ins):
                if i not in me.produced and i not in me.external:
                    me.external[i] = t
            outs = tuple(outputs or ())
            me.produced.update(tid(t) for t in outs)
            kind = op_type.decode() if isinstance(op_type, bytes) else str(op_type)
            me.records.append(OpRecord(kind, ins, outs, tuple(attrs or ()), traceback.extract_stack()[:-1],
                                       ctx.scope_name or ""))
            return None

        self._callback = callback
        op_callbacks.add_op_callback(callback)

    def _uninstall(self) -> None:
        if self._callback is not None:
            from tensorflow.python.framework import op_callbacks

            try:
                op_callbacks.remove_op_callback(self._callback)
            except (KeyError, ValueError):
                pass
            self._callback = None

    def stop(self) -> None:
        self._uninstall()
        self.records = None
        self.reads = {}
        self.produced = set()
        self.external = {}
        self.functions = []
        self.starts.clear()
        self.ends.clear()


# ---------------------------------------------------------------------------
# The rebuilt graph


def _flat(value: Any) -> list:
    import tensorflow as tf

    return tf.nest.flatten(value)


def _is_variable(v: Any) -> bool:
    return hasattr(v, "handle") and hasattr(v, "assign")


def same_value(t: Any, var: Any) -> bool:
    """Whether ``t`` is (by its buffer, else by its value) a read of ``var``."""
    import numpy as np

    try:
        if t.dtype != var.dtype or t.shape != var.shape:
            return False
        a, b = t._numpy(), var.value()._numpy()
        if a.nbytes >= 64 and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]:
            return True  # (small buffers can share an address with an unrelated tensor's)
        return bool(np.array_equal(a, b))
    except Exception:  # noqa: BLE001
        return False


def _op_name(text: str) -> str:
    """A valid op name from a variable's or source's display name."""
    name = re.sub(r"[^A-Za-z0-9_.\-/]", "_", text).strip("/") or "source"
    return name if re.match(r"[A-Za-z0-9.]", name) else "s" + name


class _Rebuild:
    """The recorded ops between the sources and the target, as ops of one ``FuncGraph``."""

    def __init__(self, records: list[OpRecord], recorder_reads: dict, external: dict) -> None:
        from tensorflow.python.framework import func_graph

        self.records = records
        self.reads_of = {value: handle for handle, values in recorder_reads.items() for value in values}
        self.external = external
        self.graph = func_graph.FuncGraph("gradflow_eager_tape")
        self.tensors: dict = {}  # tensor id -> tensor of the graph
        self.handles: dict = {}  # handle id -> (display name, variable)
        self.matched: dict = {}  # value id -> handle id (a read matched by value)
        self.sources: dict = {}  # tensor id -> display name, for watched tensors
        self.frames: dict[str, OpRecord] = {}  # op name -> its record
        self.calls: dict[str, str] = {}  # call op name -> the function TensorFlow ran
        self.values: dict = {}  # tensor id -> its eager value, where known
        self.feeds: dict = {}  # placeholder tensor name -> the eager value (or variable handle) it stands for
        self.produced: dict = {}
        for i, rec in enumerate(records):
            for k, t in enumerate(rec.outputs):
                self.produced[tid(t)] = (i, k)

    def ancestors(self, ids: set) -> list[int]:
        """Records some of ``ids`` depends on, in the order they ran."""
        found: set[int] = set()
        stack = [self.produced[t][0] for t in ids if t in self.produced]
        while stack:
            i = stack.pop()
            if i in found:
                continue
            found.add(i)
            stack.extend(self.produced[t][0] for t in self.records[i].inputs if t in self.produced)
        return sorted(found)

    # -- tensors no recorded op made ---------------------------------------------
    def _placeholder(self, name: str, dtype: Any, shape: Any) -> Any:
        import tensorflow as tf

        ph = self._make("Placeholder", [], ("dtype", tf.as_dtype(dtype), "shape", tf.TensorShape(shape)),
                        _op_name(name))[0]
        self.graph.inputs.append(ph)
        return ph

    def runner(self) -> Callable[[list], list]:
        """Evaluate tensors of the rebuilt graph on the tape's own values (its placeholders fed what they stand for)."""
        from tensorflow.python.eager import wrap_function

        # A variable's read is fed its recorded value: its handle placeholder then needs no feed.
        feeds = [ph for ph in self.graph.inputs if ph.dtype.name != "resource"]
        values = [self.feeds[ph.name] for ph in feeds]
        recorded = {t.name: self.values[key] for key, t in self.tensors.items() if key in self.values}
        for op in self.graph.get_operations():
            if op.type == "ReadVariableOp" and op.outputs[0].name in recorded:
                feeds.append(op.outputs[0])
                values.append(recorded[op.outputs[0].name])
        wrapped = wrap_function.WrappedFunction(self.graph, variable_holder=wrap_function.VariableHolder(share_variables=True))

        def run(fetches: list) -> list:
            pruned = wrapped.prune(feeds=feeds, fetches=list(fetches))
            return [t.numpy() if hasattr(t, "numpy") else t for t in pruned(*values)]

        return run

    def outside(self, t_id: Any) -> Any:
        import tensorflow as tf

        if t_id in self.tensors:
            return self.tensors[t_id]
        handle = self.reads_of.get(t_id, self.matched.get(t_id))
        if t_id in self.handles:
            name, var = self.handles[t_id]
            out = self._placeholder(name, tf.resource, [])
            self.feeds[out.name] = var.handle
        elif handle is not None and handle in self.handles:
            name, var = self.handles[handle]
            out = self._make("ReadVariableOp", [self.outside(handle)], ("dtype", var.dtype.base_dtype),
                             _op_name(name) + "/Read/ReadVariableOp")[0]
            out.set_shape(var.shape)
            if t_id in self.external:
                self.values[t_id] = self.external[t_id]
        else:
            value = self.external.get(t_id)
            if value is None:
                raise LookupError("a tensor the tape used was not recorded")
            self.values[t_id] = value
            if t_id in self.sources:
                out = self._placeholder(self.sources[t_id], value.dtype, value.shape)
                self.feeds[out.name] = value
            elif value.dtype != tf.resource and value.shape.num_elements() is not None \
                    and value.shape.num_elements() <= CONST_LIMIT:
                from tensorflow.python.framework import tensor_util

                proto = tensor_util.make_tensor_proto(value.numpy(), dtype=value.dtype)
                out = self._make("Const", [], ("dtype", value.dtype, "value", proto), "Const")[0]
            else:
                out = self._placeholder("input", value.dtype, value.shape)
                self.feeds[out.name] = value
        self.tensors[t_id] = out
        return out

    # -- ops -----------------------------------------------------------------------
    def _make(self, op_type: str, inputs: list, attrs: tuple, name: str) -> list:
        from tensorflow.python.framework import op_def_library, op_def_registry

        given: dict = {}
        for k in range(0, len(attrs) - 1, 2):
            key = attrs[k].decode() if isinstance(attrs[k], bytes) else attrs[k]
            given.setdefault(key, attrs[k + 1])
        op_def = op_def_registry.get(op_type)
        if op_def is None:
            return self._call(op_type, inputs, given, name)
        protos = {}
        for attr in op_def.attr:
            if given.get(attr.name) is not None:  # None: the op's default (TensorFlow passes it so)
                protos[attr.name] = op_def_library.value_to_attr_value(given[attr.name], attr.type, attr.name)
        op = self.graph._create_op_internal(op_type, inputs, name=self.graph.unique_name(name, mark_as_used=False),
                                            attrs=protos)
        return list(op.outputs)

    def _call(self, fn_name: str, inputs: list, given: dict, name: str) -> list:
        """A ``tf.function`` called under the tape: a ``StatefulPartitionedCall`` of its recorded definition."""
        import types

        from tensorflow.core.framework import attr_value_pb2
        from tensorflow.python.eager import context

        fdef = context.context().get_function_def(fn_name)
        self.graph._functions[fn_name] = types.SimpleNamespace(name=fn_name, cached_definition=fdef, graph=None)
        out_types = [arg.type for arg in fdef.signature.output_arg]
        attrs = {
            "f": attr_value_pb2.AttrValue(func=attr_value_pb2.NameAttrList(name=fn_name)),
            "Tin": attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(type=[t.dtype.as_datatype_enum for t in inputs])),
            "Tout": attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(type=out_types)),
        }
        op = self.graph._create_op_internal("StatefulPartitionedCall", inputs,
                                            name=self.graph.unique_name(name or "StatefulPartitionedCall", mark_as_used=False),
                                            attrs=attrs)
        return list(op.outputs)

    def add(self, i: int) -> None:
        from tensorflow.python.framework import op_def_registry

        rec = self.records[i]
        inputs = [self.tensors[t] if t in self.tensors else self.outside(t) for t in rec.inputs]
        scope = rec.scope.rstrip("/")
        base = rec.type if op_def_registry.get(rec.type) is not None else "StatefulPartitionedCall"
        outs = self._make(rec.type, inputs, rec.attrs, f"{_op_name(scope)}/{base}" if scope else base)
        for out, t in zip(outs, rec.outputs):
            try:
                out.set_shape(t.shape)
            except ValueError:
                pass
            self.tensors[tid(t)] = out
            self.values[tid(t)] = t
        if outs:
            self.frames[outs[0].op.name] = rec
            if base != rec.type:
                self.calls[outs[0].op.name] = rec.type


def _display_location(rec: OpRecord, resolver: Any) -> Location | None:
    frames = _user_frames(rec.frames)
    return resolver.location(frames) if frames else None


def _user_frames(frames: list) -> list:
    from .sources import is_gradflow_file

    frames = list(frames)
    while frames and is_gradflow_file(frames[-1].filename):
        frames.pop()  # the op callback itself
    return frames


def eager_report(site: Any, target: Any, sources: list, names: list, results: list, recorder: Recorder,
                 records: list[OpRecord], resolver: Any, elapsed: float) -> Any:
    """The report of an eager gradient call, through the same pipeline as a traced one."""
    import tensorflow as tf

    from .autodiff import AutodiffResult, grad_facts
    from .cuts import annotate_cuts
    from .flowgraph import build_flowgraph
    from .loading import Target
    from .report import Report
    from .sources import Origin, called_api, op_origin
    from .tracing import Trace, VariableRef
    from .verdict import stop_gradient_reports, variable_reports, with_numeric_cause

    t0 = time.perf_counter()
    rb = _Rebuild(records, recorder.reads, recorder.external)
    variables = []
    for src, name in zip(sources, names):
        var = _source_variable(src)
        variables.append(var)
        if _is_variable(var):
            rb.handles[tid(var.handle)] = (name, var)
        else:
            rb.sources[tid(src)] = name
    targets = [t for t in _flat(target) if t is not None]
    target_ids = {tid(t) for t in targets}
    order = rb.ancestors(target_ids)
    # Reads TensorFlow ran in C never reach the op callbacks: a tensor no recorded op
    # made, equal to a source variable, stands for such a read.
    # Only for a variable none of whose reads were seen on the way to the target: a small constant may equal it.
    used = {t for i in order for t in records[i].inputs} | target_ids
    unseen = {h: var for h, (_, var) in rb.handles.items()
              if h not in used and not (recorder.reads.get(h, set()) & used)}
    for t_id in sorted(used) if unseen else ():
        if t_id in rb.produced or t_id in rb.reads_of or t_id in rb.handles or t_id not in recorder.external:
            continue
        value = recorder.external[t_id]
        for handle, var in unseen.items():
            if same_value(value, var):
                rb.matched[t_id] = handle
                break
    for i in order:
        rb.add(i)
    graph = rb.graph
    flat_targets = [rb.tensors[t] if t in rb.tensors else rb.outside(t) for t in (tid(x) for x in targets)]
    notes = []
    if len(flat_targets) == 1:
        loss = flat_targets[0]
    else:
        with graph.as_default(), tf.name_scope("gradflow_targets"):
            loss = tf.add_n([tf.reduce_sum(tf.cast(t, tf.float32)) for t in flat_targets])
        notes.append(f"{len(flat_targets)} targets: their gradients add up, as TensorFlow's do")
    refs = []
    for src, var, name in zip(sources, variables, names):
        key = tid(var.handle) if _is_variable(var) else tid(src)
        node = rb.tensors.get(key)
        shape = var.shape
        refs.append(VariableRef(name=name, shape=None if shape.rank is None else tuple(shape.as_list()),
                                dtype=var.dtype.base_dtype.name, trainable=bool(getattr(src, "trainable", True)),
                                var=var, op_name=node.op.name if node is not None else None))
    tgt = Target(source=site.file, name=site.heading(), kind="callable", obj=None,
                 inputs_note="the script's own batch")
    tr = Trace(target=tgt, graph=graph, loss=loss, variables=refs)
    flow, ops = build_flowgraph(tr)
    bodies: dict[str, Any] = {}
    for nid, data in flow.G.nodes(data=True):
        if data["function"]:
            frames = _body_frames(data, rb, recorder, bodies)
        else:
            rec = rb.frames.get(data["name"])
            frames = _user_frames(rec.frames) if rec is not None else []
        data["location"] = resolver.location(frames) if frames else None
        origin = op_origin(frames, resolver._autograph_origin) if frames else None
        data["origin"] = origin
        data["call"] = called_api(frames, data["name"]) if Origin.is_library(origin) else None
    facts = {ref.name: grad_facts(g) for ref, g in zip(refs, results)}
    annotate_cuts(flow, ops)
    reports, mismatches = variable_reports(refs, flow, AutodiffResult(facts, numeric=True))
    stops = stop_gradient_reports(flow)
    if any(v.status in (Status.ZERO, Status.NONFINITE) for v in reports):
        from .numeric import numeric_causes

        causes = numeric_causes(tr, flow, reports, run=rb.runner())  # an explanation: {} when it cannot
        reports = tuple(with_numeric_cause(v, causes.get(v.name)) for v in reports)
    timings = {"load_s": 0.0, "trace_s": elapsed, "analysis_s": time.perf_counter() - t0,
               "autodiff_s": 0.0, "render_s": 0.0}
    notes.append(f"eager call: analysed from the {len(order)} ops the tape recorded between the sources and "
                 "the target, rebuilt as a graph")
    if mismatches:
        notes.append("gradflow's graph analysis disagrees with TensorFlow (" + "; ".join(mismatches)
                     + "); the verdicts follow TensorFlow. This is a gradflow bug: please report it.")
    loss_value = _loss_value(targets)
    if loss_value is not None and not loss_value.finite:
        import dataclasses

        first = _first_nonfinite(order, rb, flow)
        loss_value = dataclasses.replace(loss_value, first_nonfinite=first)
        where = f": first at {first.type} at {first.location or first.op}" if first else ""
        why = f" ({first.reason})" if first and first.reason else ""
        notes.insert(0, f"the loss is NaN or Inf on the script's batch{where}{why}")
    return Report(source=site.file, target=site.heading(), kind="eager", inputs="the script's own batch",
                  variables=reports, stop_gradients=stops, notes=tuple(notes), numeric=True,
                  mismatches=mismatches, loss=loss_value, timings=timings, flow=flow)


def _first_nonfinite(order: list[int], rb: _Rebuild, flow: Any) -> Any:
    """The first recorded op (in the order TensorFlow ran them) whose float result holds NaN or Inf."""
    import numpy as np

    from .numeric import nonfinite_forward_reason
    from .schema import OpRef

    values: dict[str, Any] = {}
    for t_id, tensor in rb.tensors.items():
        value = rb.values.get(t_id)
        if value is not None:
            values[tensor.name] = value

    def run(fetches: list) -> list:
        return [np.asarray(values[t.name].numpy()) for t in fetches]

    for i in order:
        rec = rb.records[i]
        if rec.type in ("ReadVariableOp", "Identity", "IdentityN"):
            continue
        for t in rec.outputs:
            if t.dtype.is_floating and not bool(np.all(np.isfinite(t.numpy()))):
                op = rb.tensors[tid(t)].op
                loc = flow.location(op.name) if op.name in flow.G else None
                try:
                    reason = nonfinite_forward_reason(op, run)
                except Exception:  # noqa: BLE001 - the op alone is the answer
                    reason = ""
                return OpRef(op=op.name, type=op.type, location=loc, reason=reason)
    return None


def _body_frames(data: dict, rb: _Rebuild, recorder: Recorder, bodies: dict) -> list:
    """The creation stack of an op inside a ``tf.function`` the tape recorded as one call (its own trace's)."""
    call = data["function"].split("[", 1)[0]
    if "/" in data["function"] or call not in rb.calls:
        return []  # deeper bodies: no line
    if call not in bodies:
        bodies[call] = recorder.function_graph(rb.calls[call])
    graph = bodies[call]
    try:
        return list(graph.get_operation_by_name(data["name"]).traceback) if graph is not None else []
    except (KeyError, ValueError):
        return []


def _loss_value(targets: list) -> Any:
    import math

    import numpy as np

    from .schema import LossValue

    try:
        total = float(sum(np.sum(np.asarray(t.numpy(), dtype=np.float64)) for t in targets))
    except Exception:  # noqa: BLE001 - not a number (a string target, say)
        return None
    return LossValue(value=total, finite=True) if math.isfinite(total) else LossValue(value=None, finite=False)


# ---------------------------------------------------------------------------
# Fallback: walk the record without rebuilding it


def _cut(op_type: str, outputs: tuple) -> tuple[str, str] | None:
    """(kind, reason) when gradient cannot pass through an op of this type, else None."""
    from tensorflow.python.framework import ops

    from .cuts import CutKind, is_backpropagatable

    if op_type == "StopGradient":
        return CutKind.STOP_GRADIENT, "tf.stop_gradient"
    if op_type == "PreventGradient":
        return CutKind.PREVENT_GRADIENT, "tf.raw_ops.PreventGradient"
    if outputs and not any(is_backpropagatable(t.dtype) for t in outputs):
        return CutKind.INTEGER_OUTPUT, f"{op_type} outputs integers: nothing carries a gradient"
    try:
        fn = ops._gradient_registry.lookup(op_type)
    except LookupError:
        return CutKind.NO_GRADIENT, f"{op_type} has no registered gradient"
    if fn is None:
        return CutKind.NOT_DIFFERENTIABLE, f"{op_type} has no gradient"
    return None


def walk_report(site: Any, target: Any, sources: list, names: list, results: list, recorder: Recorder,
                records: list[OpRecord], resolver: Any, elapsed: float, why_not: str = "") -> Any:
    """The report of an eager call from a walk over the record (when it cannot be rebuilt as a graph)."""
    from .autodiff import grad_facts
    from .cuts import Cut
    from .fixes import fix_for
    from .report import Report
    from .schema import StopGradientReport

    t0 = time.perf_counter()
    produced: dict[Any, int] = {}
    consumers: dict[Any, list[int]] = {}
    for i, rec in enumerate(records):
        for t in rec.inputs:
            consumers.setdefault(t, []).append(i)
        for t in rec.outputs:
            produced[tid(t)] = i
    target_ids = {tid(t) for t in _flat(target) if t is not None}
    to_target: set[int] = set()
    stack = [produced[t] for t in target_ids if t in produced]
    while stack:
        i = stack.pop()
        if i in to_target:
            continue
        to_target.add(i)
        stack.extend(produced[t] for t in records[i].inputs if t in produced)

    def op_id(i: int) -> str:
        return f"{records[i].type}_{i}"

    variables = []
    stops_shield: dict[int, list[str]] = {}
    for src, name, grad in zip(sources, names, results):
        var = _source_variable(src)
        start_id = tid(var.handle) if _is_variable(var) else tid(src)
        seen, frontier, reaches = set(), [], False
        starts = {start_id} | set(recorder.reads.get(start_id, ()))
        if _is_variable(var) and not any(s in consumers for s in starts):
            starts |= {t for t, value in recorder.external.items() if same_value(value, var)}
        stack = [i for s in starts for i in consumers.get(s, []) if i in to_target]
        while stack:
            i = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            reaches = True
            if _cut(records[i].type, records[i].outputs) is not None:
                frontier.append(i)
                continue
            for t in records[i].outputs:
                stack.extend(j for j in consumers.get(tid(t), []) if j in to_target)
        if starts & target_ids:
            reaches = True
        facts = grad_facts(grad)
        if facts.is_none:
            status = Status.BLOCKED if reaches else Status.DISCONNECTED
        elif facts.finite is False:
            status = Status.NONFINITE
        elif facts.all_zero:
            status = Status.ZERO
        else:
            status = Status.FLOWS
        blockers = []
        if status is Status.BLOCKED:
            for i in sorted(set(frontier)):
                kind, reason = _cut(records[i].type, records[i].outputs)
                loc = _display_location(records[i], resolver)
                blockers.append(Blocker(op=op_id(i), type=records[i].type, location=loc, reason=reason, kind=kind,
                                        fix=fix_for(Cut(kind, reason), records[i].type, op_id(i), loc, (name,))))
                if records[i].type == "StopGradient":
                    stops_shield.setdefault(i, []).append(name)
            where = ", ".join(f"{b.type} at {b.where()}" for b in blockers) or "an op of the tape"
            why = f"every path to the target is cut: {where}"
        elif status is Status.DISCONNECTED:
            why = "the target does not depend on it: no op the tape recorded reads it on the way to the target"
        else:
            why = {Status.FLOWS: "TensorFlow's gradient reaches it", Status.ZERO: "its gradient is all zero on this batch",
                   Status.NONFINITE: "its gradient holds NaN or Inf"}[status]
        shape = getattr(var, "shape", None)
        variables.append(VariableReport(
            name=name, shape=None if shape is None or shape.rank is None else tuple(shape.as_list()),
            dtype=var.dtype.base_dtype.name, trainable=bool(getattr(src, "trainable", True)),
            status=status, grad_norm=facts.norm if not facts.is_none else None,
            paths=PathCount(1 if reaches else 0, 1 if status is Status.BLOCKED else 0),
            blockers=tuple(blockers), why=why,
            expected=(None if status is Status.FLOWS else
                      (len(blockers) == 1 and blockers[0].type == "StopGradient") if status is Status.BLOCKED else False),
            expected_reason=""))
    stops = [StopGradientReport(op=op_id(i), location=_display_location(records[i], resolver),
                                shields=tuple(stops_shield.get(i, ())))
             for i in sorted(to_target) if records[i].type == "StopGradient"]
    timings = {"load_s": 0.0, "trace_s": elapsed, "analysis_s": time.perf_counter() - t0,
               "autodiff_s": 0.0, "render_s": 0.0}
    notes = [f"eager call: analysed from the {len(records)} ops the tape recorded, without a graph "
             "(path counts are 1 or 0)"]
    if why_not:
        notes.append(f"the recorded ops could not be rebuilt as a graph ({why_not})")
    return Report(source=site.file, target=site.heading(), kind="eager", inputs="the script's own batch",
                  variables=tuple(variables), stop_gradients=tuple(stops), notes=tuple(notes), numeric=True,
                  timings=timings, flow=None)


def _source_variable(src: Any) -> Any:
    """A gradient source as the tf.Variable behind it (a Keras variable's), else the source itself."""
    from .tracing import as_tf_variable

    if _is_variable(src) or hasattr(src, "path"):
        try:
            return as_tf_variable(src)
        except Exception:  # noqa: BLE001 - not convertible: the source stands for itself
            return src
    return src
