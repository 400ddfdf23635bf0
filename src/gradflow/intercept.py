"""Catch every gradient computation of running code and report on each gradient site once.

A *site* is a gradient call in the user's code: the file and line of the call
plus the set of sources. :class:`Interceptor` patches, while it is installed,

- ``tf.GradientTape.gradient`` (eager, or inside a ``tf.function`` being
  traced, which covers Keras 3's ``train_step`` under ``model.fit`` and
  ``strategy.run`` steps);
- ``tf.gradients`` / ``tf.compat.v1.gradients``;
- ``tf.compat.v1.train.Optimizer.compute_gradients`` (and so ``minimize``);
- ``tf.compat.v1.Session.run`` (the TF1 numeric check on the script's own feeds);
- ``tf.function`` calls (where a traced step ends).

Traced calls are analysed on the graph being built (the full pipeline of
:mod:`gradflow.api`). Eager calls are analysed from the ops TensorFlow ran
while the tape recorded, seen through its op callbacks. Either way the
verdict comes from what the call itself returned: ``None`` is ``blocked`` or
``disconnected``, a tensor is ``flows`` (or ``zero`` / ``nonfinite`` when its
value says so).

Nothing is patched outside :meth:`Interceptor.install` /
:meth:`Interceptor.uninstall`; once a site is analysed, its later calls pass
straight through (a dictionary lookup).
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from .schema import Blocker, Location, PathCount, Status, VariableReport

__all__ = ["Site", "SiteReport", "Interceptor", "StopScript"]


_MISSING = object()


class StopScript(BaseException):
    """Raised into the script to end it cleanly once every site is analysed."""


@dataclass(frozen=True)
class Site:
    """Where a gradient was asked for.

    Attributes:
        file, line: the user's call (for Keras' built-in ``train_step``, the
            user's ``model.fit`` line).
        call: ``tape.gradient``, ``tf.gradients``, ``optimizer.compute_gradients``...
        label: the enclosing function's name ("discriminator step" style), or "".
    """

    file: str
    line: int
    call: str
    label: str = ""

    def heading(self) -> str:
        text = f"{self.call} at {self.file}:{self.line}"
        return f"{text} ({self.label})" if self.label else text

    def to_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "call": self.call}


@dataclass
class SiteReport:
    """One analysed site and its :class:`~gradflow.report.Report`."""

    site: Site
    report: Any
    source_ids: tuple = field(default=(), compare=False, repr=False)  # id() of each source, in report order
    target_ids: tuple = field(default=(), compare=False, repr=False)  # id() of each target

    def to_dict(self) -> dict:
        return {"site": self.site.to_dict(), "report": self.report.to_dict()}


_GRADFLOW_DIR = None


def _caller_location(resolver: Any) -> Location | None:
    from .sources import is_gradflow_file, autograph_origins, innermost_user_frame

    frames = traceback.extract_stack()
    while frames and is_gradflow_file(frames[-1].filename):
        frames.pop()  # gradflow's own wrappers, innermost: the user's call is just outside them
    origins = autograph_origins()
    found = innermost_user_frame(frames, lambda f, n: origins.get((f, n)))
    if found is None:
        return None
    return Location(resolver.display_path(found[0]), int(found[1]))


def _label_of(loc: Location | None) -> str:
    """The name of the user's function around ``loc`` ("discriminator step" from ``discriminator_step``)."""
    if loc is None:
        return ""
    import linecache
    import re

    lines = linecache.getlines(loc.file) or []
    for i in range(min(loc.line, len(lines)) - 1, -1, -1):
        m = re.match(r"\s*(?:async\s+)?def\s+(\w+)", lines[i])
        if m:
            return m.group(1).replace("_", " ").strip()
        if lines[i].strip() and not lines[i].startswith((" ", "\t")) and i < loc.line - 1:
            return ""  # module level
    return ""


def _flat(value: Any) -> list:
    import tensorflow as tf

    return tf.nest.flatten(value)


def _tf_variable(v: Any) -> Any:
    from .tracing import as_tf_variable

    try:
        return as_tf_variable(v)
    except Exception:  # noqa: BLE001
        return v


def _is_variable(v: Any) -> bool:
    return hasattr(v, "handle") and hasattr(v, "assign")


def _display_name(v: Any, index: int) -> str:
    from .tracing import variable_display_name

    if _is_variable(v) or hasattr(v, "path"):
        return variable_display_name(v, _tf_variable(v))
    name = getattr(v, "name", None)
    if isinstance(name, str) and name:
        return name[:-2] if name.endswith(":0") else name
    return f"source[{index}]"


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


class Interceptor:
    """Patches TensorFlow while installed; collects one :class:`SiteReport` per gradient site.

    Args:
        on_report: called with each new :class:`SiteReport` as it is made.
        steps: analyse at most this many gradient calls (None: every new site).
        stop: raise :class:`StopScript` at the end of the first step after which
            every site seen has been analysed.
    """

    def __init__(self, on_report: Callable[[SiteReport], None] | None = None, *,
                 steps: int | None = None, stop: bool = False, source: str | None = None,
                 grad_hook: Callable[[list, list, list], None] | None = None) -> None:
        from .sources import LocationResolver

        self.reports: list[SiteReport] = []
        self.on_report = on_report
        self.grad_hook = grad_hook
        self.steps = steps
        self.stop = stop
        self.source = source
        self.resolver = LocationResolver(source)
        self.errors: list[str] = []
        self.calls = 0
        self._done_fast: set = set()  # (code, lineno, ids) of analysed call sites
        self._keys: set = set()
        self._local = threading.local()
        self._patches: list[tuple[Any, str, Any]] = []
        self._records: list | None = None  # eager ops while a tape records
        self._reads: dict = {}  # eager variable handle id -> ids of the values read from it
        self._produced: set = set()
        self._unknown: set = set()
        self._unknown_ptrs: dict = {}  # tensors no recorded op made (a read TensorFlow ran in C) -> buffer
        self._tapes: dict = {}
        self._recording_tapes: dict[int, int] = {}
        self._callback: Any = None
        self._tf1_pending: list = []  # (graph, site, target, sources, grads, names)
        self._depth = 0
        self._new_in_step = False
        self._functions_called: set[int] = set()
        self._slots_by_call: dict = {}
        self._hooked: set = set()
        self.numeric_errors: list[str] = []
        self._traced_pending: list = []  # (SiteReport, slots): traced sites waiting for their step to run
        self.stopped = False

    # -- installing ----------------------------------------------------------
    def install(self) -> "Interceptor":
        import tensorflow as tf
        from tensorflow.python.eager import backprop
        from tensorflow.python.eager.polymorphic_function import polymorphic_function

        me = self
        tape_cls = backprop.GradientTape
        orig_gradient = tape_cls.gradient
        orig_enter = tape_cls.__enter__
        orig_exit = tape_cls.__exit__

        def gradient(tape, target, sources, *args, **kwargs):
            if me._busy():
                return orig_gradient(tape, target, sources, *args, **kwargs)
            return me._on_gradient("tape.gradient", lambda: orig_gradient(tape, target, sources, *args, **kwargs),
                                   target, sources, tape=tape)

        def enter(tape):
            result = orig_enter(tape)
            if not me._busy() and tf.executing_eagerly():
                me._start_recording(tape)
            return result

        def exit_(tape, *exc):
            return orig_exit(tape, *exc)

        self._patch(tape_cls, "gradient", gradient)
        self._patch(tape_cls, "__enter__", enter)
        self._patch(tape_cls, "__exit__", exit_)

        for mod, name in ((tf, "gradients"), (tf.compat.v1, "gradients"), (tf.compat.v2, "gradients")):
            orig = getattr(mod, name)

            def tf_gradients(ys, xs, *args, _orig=orig, **kwargs):
                if me._busy():
                    return _orig(ys, xs, *args, **kwargs)
                return me._on_gradient("tf.gradients", lambda: _orig(ys, xs, *args, **kwargs), ys, xs)

            self._patch(mod, name, tf_gradients)

        opt_cls = tf.compat.v1.train.Optimizer
        orig_cg = opt_cls.compute_gradients
        orig_min = opt_cls.minimize

        def compute_gradients(opt, loss, var_list=None, *args, **kwargs):
            if me._busy():
                return orig_cg(opt, loss, var_list, *args, **kwargs)
            call = getattr(me._local, "call", None) or "optimizer.compute_gradients"

            def run():
                with me._quiet():
                    return orig_cg(opt, loss, var_list, *args, **kwargs)

            if callable(loss) or tf.executing_eagerly():
                return run()
            pairs = run()
            me._on_gradient(call, lambda: [g for g, _ in pairs], loss, [v for _, v in pairs])
            return pairs

        def minimize(opt, *args, **kwargs):
            me._local.call = "optimizer.minimize"
            try:
                return orig_min(opt, *args, **kwargs)
            finally:
                me._local.call = None

        self._patch(opt_cls, "compute_gradients", compute_gradients)
        self._patch(opt_cls, "minimize", minimize)

        from tensorflow.python.client import session as session_lib

        session_cls = session_lib.BaseSession
        orig_run = session_cls.run

        def session_run(session, fetches, feed_dict=None, *args, **kwargs):
            checked = False
            if me._tf1_pending and not me._busy():
                checked = me._tf1_numeric(session, feed_dict)
            result = orig_run(session, fetches, feed_dict, *args, **kwargs)
            if checked and not me._busy():
                me._step_boundary(end=True)
            return result

        self._patch(session_cls, "run", session_run)

        from tensorflow.python.ops import resource_variable_ops

        var_cls = resource_variable_ops.BaseResourceVariable
        orig_read = var_cls._read_variable_op

        def read_variable_op(var, *args, **kwargs):
            value = orig_read(var, *args, **kwargs)
            if me._records is not None and not me._busy():
                # Some reads run on a path TensorFlow's op callbacks never see: note them here.
                me._reads.setdefault(_tid(var.handle), set()).add(_tid(value))
            return value

        self._patch(var_cls, "_read_variable_op", read_variable_op)

        fn_cls = polymorphic_function.Function
        orig_call = fn_cls.__call__

        def fn_call(fn, *args, **kwargs):
            if me._busy():
                return orig_call(fn, *args, **kwargs)
            if me._depth == 0:
                if id(fn) in me._functions_called:
                    me._step_boundary(end=False)  # a step function again: the last step is over
                me._functions_called.add(id(fn))
            me._depth += 1
            try:
                return orig_call(fn, *args, **kwargs)
            finally:
                me._depth -= 1
                if me._depth == 0 and me._traced_pending:
                    me._flush_traced()

        self._patch(fn_cls, "__call__", fn_call)
        return self

    def uninstall(self) -> None:
        for owner, name, original in reversed(self._patches):
            if original is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._patches.clear()
        self._stop_recording_all()

    def _patch(self, owner: Any, name: str, new: Any) -> None:
        original = owner.__dict__.get(name, _MISSING) if isinstance(owner, type) else getattr(owner, name)
        self._patches.append((owner, name, original))
        setattr(owner, name, new)

    def __enter__(self) -> "Interceptor":
        return self.install()

    def __exit__(self, *exc: Any) -> None:
        self.uninstall()

    # -- helpers -------------------------------------------------------------
    def _busy(self) -> bool:
        return getattr(self._local, "busy", 0) > 0

    class _Quiet:
        def __init__(self, owner: "Interceptor") -> None:
            self.owner = owner

        def __enter__(self) -> None:
            self.owner._local.busy = getattr(self.owner._local, "busy", 0) + 1

        def __exit__(self, *exc: Any) -> None:
            self.owner._local.busy -= 1

    def _quiet(self) -> "_Quiet":
        return Interceptor._Quiet(self)

    def _budget_left(self) -> bool:
        return self.steps is None or self.calls < self.steps

    # -- stopping ------------------------------------------------------------
    def _step_boundary(self, *, end: bool) -> None:
        """A step just ended (``end``) or a new one begins: stop when the analysis is complete."""
        if not self.stop or self.stopped or self._tf1_pending or not self.reports:
            return
        if self.steps is not None and self.calls < self.steps:
            return
        self._raise_stop()

    def _raise_stop(self) -> None:
        self.stopped = True
        self._stop_recording_all()
        raise StopScript()

    # -- the gradient call -----------------------------------------------------
    def _on_gradient(self, call: str, run: Callable[[], Any], target: Any, sources: Any, tape: Any = None) -> Any:
        import tensorflow as tf

        caller = sys._getframe(2)
        flat_sources = _flat(sources)
        fast = (caller.f_code, caller.f_lineno, tuple(id(s) for s in flat_sources))
        if fast in self._done_fast or not self._budget_left():
            if fast in self._done_fast and self._depth == 0 and tf.executing_eagerly():
                self._step_boundary(end=False)  # an eager loop came back to an analysed site
            if tape is not None:
                self._tape_done(tape)
            with self._quiet():
                result = run()
                slots = self._slots_by_call.get(fast)
                if self.grad_hook is not None and fast in self._hooked and not tf.executing_eagerly():
                    try:
                        names = _unique([_display_name(x, i) for i, x in enumerate(flat_sources)])
                        self.grad_hook(flat_sources, names, _flat_results(result, flat_sources))
                    except Exception:  # noqa: BLE001
                        pass
                if slots is not None and not tf.executing_eagerly():
                    try:  # the same site traced again: its new graph fills the same variables
                        _numeric_slots(_flat_results(result, flat_sources), slots)
                    except Exception:  # noqa: BLE001
                        pass
            return result
        self._done_fast.add(fast)
        start = time.perf_counter()
        loc = _caller_location(self.resolver)
        in_keras = "keras" in (caller.f_code.co_filename or "")
        if in_keras and call == "tape.gradient":
            call = "model.fit train_step"
        site = Site(loc.file if loc else "<unknown>", loc.line if loc else 0, call,
                    _label_of(loc) if not in_keras else "")
        with self._quiet():
            result = run()
        graph = tf.compat.v1.get_default_graph() if not tf.executing_eagerly() else None
        names = _unique([_display_name(s, i) for i, s in enumerate(flat_sources)])
        key = (site.file, site.line, site.call, tuple(sorted(names)))
        if key in self._keys:
            if tape is not None:
                self._tape_done(tape)
            slots = self._slots_by_call.get(key)
            if self.grad_hook is not None and graph is not None:
                try:
                    with self._quiet():
                        self.grad_hook(flat_sources, names, _flat_results(result, flat_sources))
                except Exception:  # noqa: BLE001
                    pass
                self._hooked.add(fast)
            if slots is not None and graph is not None:
                try:  # the same site traced again (new code object): fill the same variables
                    with self._quiet():
                        _numeric_slots(_flat_results(result, flat_sources), slots)
                        self._slots_by_call[fast] = slots
                except Exception:  # noqa: BLE001
                    pass
            return result
        self._keys.add(key)
        self.calls += 1
        flat_results = _flat_results(result, flat_sources)
        if self.grad_hook is not None:
            with self._quiet():
                self.grad_hook(flat_sources, names, flat_results)
            self._hooked.add(fast)
        try:
            with self._quiet():
                if graph is None:
                    records = self._tape_records(tape)
                    report = eager_report(site, target, flat_sources, names, flat_results, records,
                                          self.resolver, time.perf_counter() - start, reads=self._reads,
                                          unknown=self._unknown_ptrs)
                elif getattr(graph, "_building_function", False) or not hasattr(graph, "as_graph_def") \
                        or _is_func_graph(graph):
                    report = traced_report(site, graph, target, flat_sources, names, flat_results,
                                           time.perf_counter() - start, numeric=False)
                    slots = _numeric_slots(flat_results) if self._depth > 0 else None
                    if slots is not None:
                        self._slots_by_call[fast] = self._slots_by_call[key] = slots  # shown once the step has run, with the batch's values
                        self._traced_pending.append((SiteReport(site, report, tuple(id(x) for x in flat_sources),
                                                                _target_ids(target)), slots))
                        return result
                else:
                    self._tf1_pending.append((graph, site, target, flat_sources, names, flat_results, start))
                    return result
        except StopScript:
            raise
        except Exception as exc:  # noqa: BLE001 - never break the user's script
            self.errors.append(f"{site.heading()}: {type(exc).__name__}: {exc}")
            return result
        finally:
            if tape is not None:
                self._tape_done(tape)
        self._add(SiteReport(site, report, tuple(id(x) for x in flat_sources), _target_ids(target)))
        return result

    def _add(self, item: SiteReport) -> None:
        self.reports.append(item)
        self._new_in_step = True
        if self.on_report is not None:
            with self._quiet():
                self.on_report(item)

    def _flush_traced(self) -> None:
        pending, self._traced_pending = self._traced_pending, []
        for item, slots in pending:
            try:
                with self._quiet():
                    item = SiteReport(item.site, _with_values(item.report, slots), item.source_ids, item.target_ids)
            except Exception as exc:  # noqa: BLE001 - the step never ran: keep the traced report
                self.numeric_errors.append(f"{item.site.heading()}: {type(exc).__name__}: {exc}")
            self._add(item)

    # -- TF1 -------------------------------------------------------------------
    def _tf1_numeric(self, session: Any, feed_dict: Any) -> bool:
        """Evaluate pending TF1 gradients on this run's feeds; True when any site was completed."""
        pending, self._tf1_pending = self._tf1_pending, []
        done = False
        for item in pending:
            graph, site, target, sources, names, results, start = item
            if session.graph is not graph:
                self._tf1_pending.append(item)
                continue
            present = [(i, g) for i, g in enumerate(results) if g is not None]
            try:
                with self._quiet():
                    from .autodiff import dense_gradient

                    with graph.as_default():
                        fetched = session.run([dense_gradient(g) for _, g in present], feed_dict=feed_dict)
            except Exception:  # noqa: BLE001 - not fed yet or not initialised: wait for the next run
                self._tf1_pending.append(item)
                continue
            values = {i: v for (i, _), v in zip(present, fetched)}
            numeric = True
            done = True
            try:
                with self._quiet():
                    report = traced_report(site, graph, target, sources, names, results,
                                           time.perf_counter() - start, numeric=numeric, values=values,
                                           tf1=True, feed=feed_dict)
            except Exception as exc:  # noqa: BLE001
                self.errors.append(f"{site.heading()}: {type(exc).__name__}: {exc}")
                continue
            self._add(SiteReport(site, report, tuple(id(x) for x in sources), _target_ids(target)))
        return done

    def finish(self) -> None:
        """Report sites still waiting for a ``Session.run`` (the script never ran them)."""
        if self._traced_pending:
            self._flush_traced()
        if self._tf1_pending:
            pending, self._tf1_pending = self._tf1_pending, []
            for graph, site, target, sources, names, results, start in pending:
                try:
                    with self._quiet():
                        report = traced_report(site, graph, target, sources, names, results,
                                               time.perf_counter() - start, numeric=False, tf1=True)
                except Exception as exc:  # noqa: BLE001
                    self.errors.append(f"{site.heading()}: {type(exc).__name__}: {exc}")
                    continue
                self._add(SiteReport(site, report, tuple(id(x) for x in sources), _target_ids(target)))
        self._stop_recording_all()

    # -- eager recording ---------------------------------------------------------
    def _start_recording(self, tape: Any) -> None:
        caller = sys._getframe(2)
        key = (caller.f_code, caller.f_lineno)
        if key in self._done_fast or self.stopped or not self._budget_left():
            return
        tape._gradflow_enter_key = key
        if self._records is None:
            self._records = []
            self._install_callback()
        self._recording_tapes[id(tape)] = len(self._records)
        self._tapes[id(tape)] = tape

    def _tape_records(self, tape: Any) -> list:
        if tape is None or self._records is None or id(tape) not in self._recording_tapes:
            return []
        return self._records[self._recording_tapes[id(tape)]:]

    def _tape_done(self, tape: Any) -> None:
        key = getattr(tape, "_gradflow_enter_key", None)
        if key is not None:
            self._done_fast.add(key)
        if id(tape) in self._recording_tapes and not getattr(tape, "_persistent", False):
            del self._recording_tapes[id(tape)]
            self._tapes.pop(id(tape), None)
        if not self._recording_tapes:
            self._stop_recording_all()

    def _install_callback(self) -> None:
        from tensorflow.python.framework import op_callbacks

        me = self

        def callback(op_type, inputs, attrs, outputs, op_name=None, graph=None):
            if graph is not None or me._records is None or me._busy():
                return None
            ins = tuple(_tid(t) for t in inputs)
            for t, tid in zip(inputs, ins):
                if tid not in me._produced and tid not in me._unknown:
                    me._unknown.add(tid)
                    if hasattr(t, "_numpy"):
                        me._unknown_ptrs[tid] = t  # compared with the sources' values at the gradient call
            outs = tuple((_tid(t), getattr(t, "dtype", None)) for t in (outputs or ()))
            me._produced.update(tid for tid, _ in outs)
            me._records.append((op_type, ins, outs, traceback.extract_stack()[:-2]))
            return None

        self._callback = callback
        op_callbacks.add_op_callback(callback)

    def _stop_recording_all(self) -> None:
        if self._callback is not None:
            from tensorflow.python.framework import op_callbacks

            try:
                op_callbacks.remove_op_callback(self._callback)
            except (KeyError, ValueError):
                pass
            self._callback = None
        self._records = None
        self._reads = {}
        self._produced = set()
        self._unknown = set()
        self._unknown_ptrs = {}
        self._tapes = {}
        self._recording_tapes.clear()


def _same_value(t: Any, var: Any) -> bool:
    """Whether ``t`` is (by its buffer, else by its value) a read of ``var``."""
    import numpy as np

    try:
        if t.dtype != var.dtype or t.shape != var.shape:
            return False
        a, b = t._numpy(), var.value()._numpy()
        if a.size and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]:
            return True
        return bool(np.array_equal(a, b))
    except Exception:  # noqa: BLE001
        return False


def _flat_results(result: Any, flat_sources: list) -> list:
    if isinstance(result, (list, tuple)) and len(result) != len(flat_sources):
        return list(result)
    return _flat(result)


def _buffer(t: Any) -> int | None:
    try:
        array = t._numpy()
    except Exception:  # noqa: BLE001 - not a CPU eager tensor
        return None
    return array.__array_interface__["data"][0] if array.size else None


def _target_ids(target: Any) -> tuple:
    return tuple(id(t) for t in _flat(target))


def _tid(t: Any) -> Any:
    tid = getattr(t, "_id", None)
    return tid if tid is not None else id(t)


def _is_func_graph(graph: Any) -> bool:
    from tensorflow.python.framework.func_graph import FuncGraph

    return isinstance(graph, FuncGraph)


# ---------------------------------------------------------------------------
# Traced: the FuncGraph (or TF1 graph) the call was made in


def _capture_map(graph: Any) -> dict[int, str]:
    """id(eager handle) -> the op standing for it in ``graph`` (through nested functions' captures)."""
    outer = getattr(graph, "outer_graph", None)
    outer_map = _capture_map(outer) if outer is not None and _is_func_graph(outer) else {}
    outer_by_name = {name: key for key, name in outer_map.items()}
    result = {}
    for external, internal in getattr(graph, "captures", ()):
        result[id(external)] = internal.op.name
        name = getattr(getattr(external, "op", None), "name", None)
        if name is not None and name in outer_by_name:
            result[outer_by_name[name]] = internal.op.name
    return result


def traced_report(site: Site, graph: Any, target: Any, sources: list, names: list, results: list,
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


def _numeric_slots(results: list, slots: list | None = None) -> list | None:
    """At trace time: per gradient, a variable the step fills with [sum of squares, all finite, any nonzero].

    The checks sit in one ``tf.cond`` on an ``armed`` flag (the list's last
    item) that gradflow clears once it has read them, so later steps pay one
    skipped branch. ``slots``: those of an earlier trace of the same site
    (tf.function traces again after a trace made variables), reused.
    None (no numeric check) under a ``tf.distribute`` strategy, whose replicas
    would each write the same variable.
    """
    import tensorflow as tf

    if tf.distribute.has_strategy():
        return None
    made, pairs = [], []
    for k, g in enumerate(results):
        if g is None:
            made.append(None)
            continue
        if isinstance(g, tf.IndexedSlices):
            g = g.values
        slot = slots[k] if slots is not None and k < len(slots) - 1 else None
        if slot is None:
            with tf.init_scope():
                slot = tf.Variable([float("nan")] * 3, trainable=False, dtype=tf.float64, name="gradflow_check")
        made.append(slot)
        pairs.append((slot, g))
    if slots is not None:
        armed = slots[-1]
    else:
        with tf.init_scope():
            armed = tf.Variable(True, trainable=False, name="gradflow_armed")
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


def _with_values(report: Any, slots: list) -> Any:
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
    notes = tuple(n for n in report.notes if not n.startswith("traced call:")) + (
        "traced call: the verdicts are what the call returned while its graph was built; the gradient "
        "values are those of the step's first run on the script's own batch",)
    return dataclasses.replace(report, variables=tuple(variables), numeric=True, notes=notes,
                               inputs="the script's own batch (traced step)")


# ---------------------------------------------------------------------------
# Eager: the ops the tape saw


_NO_GRAD_TYPES = {"StopGradient": "tf.stop_gradient"}


def _eager_cut(op_type: str, outputs: tuple) -> tuple[str, str] | None:
    """(kind, reason) when gradient cannot pass through an op of this type, else None."""
    from tensorflow.python.framework import ops

    from .cuts import CutKind, is_backpropagatable

    if op_type == "StopGradient":
        return CutKind.STOP_GRADIENT, "tf.stop_gradient"
    if op_type == "PreventGradient":
        return CutKind.PREVENT_GRADIENT, "tf.raw_ops.PreventGradient"
    if outputs and not any(d is not None and is_backpropagatable(d) for _, d in outputs):
        return CutKind.INTEGER_OUTPUT, f"{op_type} outputs integers: nothing carries a gradient"
    try:
        fn = ops._gradient_registry.lookup(op_type)
    except LookupError:
        return CutKind.NO_GRADIENT, f"{op_type} has no registered gradient"
    if fn is None:
        return CutKind.NOT_DIFFERENTIABLE, f"{op_type} has no gradient"
    return None


def eager_report(site: Site, target: Any, sources: list, names: list, results: list, records: list,
                 resolver: Any, elapsed: float, reads: dict | None = None,
                 unknown: dict | None = None) -> Any:
    from .autodiff import grad_facts
    from .cuts import Cut
    from .fixes import fix_for
    from .report import Report
    from .schema import StopGradientReport
    from .sources import is_gradflow_file, innermost_user_frame

    t0 = time.perf_counter()
    produced: dict[Any, int] = {}
    consumers: dict[Any, list[int]] = {}
    for i, (_, ins, outs, _) in enumerate(records):
        for tid in ins:
            consumers.setdefault(tid, []).append(i)
        for tid, _ in outs:
            produced[tid] = i
    target_ids = {_tid(t) for t in _flat(target) if t is not None}
    # ops from which a target is reachable
    to_target: set[int] = set()
    stack = [produced[t] for t in target_ids if t in produced]
    while stack:
        i = stack.pop()
        if i in to_target:
            continue
        to_target.add(i)
        stack.extend(produced[t] for t in records[i][1] if t in produced)

    def location(i: int) -> Location | None:
        frames = list(records[i][3])
        while frames and is_gradflow_file(frames[-1].filename):
            frames.pop()
        found = innermost_user_frame(frames)
        return Location(resolver.display_path(found[0]), int(found[1])) if found else None

    def op_id(i: int) -> str:
        return f"{records[i][0]}_{i}"

    variables = []
    stops_shield: dict[int, list[str]] = {}
    for src, name, grad in zip(sources, names, results):
        var = _tf_variable(src)
        start_id = _tid(getattr(var, "handle", None)) if _is_variable(var) else _tid(src)
        # forward over ops on a path to the target
        seen, frontier_cuts, reaches = set(), [], False
        starts = {start_id} | set((reads or {}).get(start_id, ()))
        if _is_variable(var) and unknown:
            # Reads TensorFlow ran in C never reach the op callbacks: a tensor no
            # recorded op made, equal to the variable, stands for such a read.
            starts |= {tid for tid, t in unknown.items() if _same_value(t, var)}
        stack = [i for sid in starts for i in consumers.get(sid, []) if i in to_target]
        while stack:
            i = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            reaches = True
            if _eager_cut(records[i][0], records[i][2]) is not None:
                frontier_cuts.append(i)
                continue
            for tid, _ in records[i][2]:
                stack.extend(j for j in consumers.get(tid, []) if j in to_target)
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
            for i in sorted(set(frontier_cuts)):
                kind, reason = _eager_cut(records[i][0], records[i][2])
                loc = location(i)
                blockers.append(Blocker(op=op_id(i), type=records[i][0], location=loc, reason=reason,
                                        kind=kind, fix=fix_for(Cut(kind, reason), records[i][0], op_id(i), loc, (name,))))
                if records[i][0] == "StopGradient":
                    stops_shield.setdefault(i, []).append(name)
        if status is Status.BLOCKED:
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
    stops = []
    for i, (op_type, _, _, _) in enumerate(records):
        if op_type == "StopGradient" and i in to_target:
            stops.append(StopGradientReport(op=op_id(i), location=location(i), shields=tuple(stops_shield.get(i, ()))))
    timings = {"load_s": 0.0, "trace_s": elapsed, "analysis_s": time.perf_counter() - t0,
               "autodiff_s": 0.0, "render_s": 0.0}
    notes = (f"eager call: analysed from the {len(records)} ops the tape recorded",)
    return Report(source=site.file, target=site.heading(), kind="eager", inputs="the script's own batch",
                  variables=tuple(variables), stop_gradients=tuple(stops), notes=notes, numeric=True,
                  timings=timings, flow=None)
