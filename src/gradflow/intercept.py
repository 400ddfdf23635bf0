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

from .eager import Recorder, eager_report, walk_report
from .schema import Location
from .traced import is_func_graph, numeric_slots, traced_report, with_values

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
        self._recorder = Recorder(self._analysing)  # eager ops while a tape records
        self._tf1_pending: list = []  # (graph, site, target, sources, grads, names)
        self._depth = 0
        self._new_in_step = False
        self._functions_called: set[int] = set()
        self._slots_by_call: dict = {}
        self._hooked: set = set()
        self.numeric_errors: list[str] = []
        self._traced_pending: list = []  # (SiteReport, slots): traced sites waiting for their step to run
        self.traced_checks: list = []  # (SiteReport before values, slots) of every traced site: see recheck()
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
            result = orig_exit(tape, *exc)
            if me._recorder.active and not me._busy():
                me._recorder.exit(tape)
            return result

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
            if me._recorder.active and not me._analysing():
                # Some reads run on a path TensorFlow's op callbacks never see: note them here.
                me._recorder.note_read(var.handle, value)
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
                if me._recorder.active:
                    me._recorder.note_function(fn, args, kwargs)  # its body's source lines, for an eager tape
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

    def _analysing(self) -> bool:
        return getattr(self._local, "analysing", 0) > 0

    class _Quiet:
        """No interception inside (the user's own call, run through); ``analysing``: gradflow's own work,
        whose ops are not recorded either (a user's gradient call is: an outer tape may differentiate it)."""

        def __init__(self, owner: "Interceptor", analysing: bool) -> None:
            self.owner, self.analysing = owner, analysing

        def __enter__(self) -> None:
            local = self.owner._local
            local.busy = getattr(local, "busy", 0) + 1
            if self.analysing:
                local.analysing = getattr(local, "analysing", 0) + 1

        def __exit__(self, *exc: Any) -> None:
            local = self.owner._local
            local.busy -= 1
            if self.analysing:
                local.analysing -= 1

    def _quiet(self, analysing: bool = True) -> "_Quiet":
        return Interceptor._Quiet(self, analysing)

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
            with self._quiet(analysing=False):
                result = run()
            if self.grad_hook is None and not self._slots_by_call:
                return result  # the common case: nothing more to do for an analysed site
            with self._quiet():
                slots = self._slots_by_call.get(fast)
                if self.grad_hook is not None and fast in self._hooked and not tf.executing_eagerly():
                    try:
                        names = _unique([_display_name(x, i) for i, x in enumerate(flat_sources)])
                        self.grad_hook(flat_sources, names, _flat_results(result, flat_sources))
                    except Exception:  # noqa: BLE001
                        pass
                if slots is not None and not tf.executing_eagerly():
                    try:  # the same site traced again: its new graph fills the same variables
                        numeric_slots(_flat_results(result, flat_sources), slots)
                    except Exception:  # noqa: BLE001
                        pass
            return result
        self._done_fast.add(fast)
        start = time.perf_counter()
        loc = _caller_location(self.resolver)
        in_keras = "keras" in (caller.f_code.co_filename or "")
        if in_keras and call == "tape.gradient":
            call = _keras_call(caller)
            in_keras = call != "tape.gradient"
        site = Site(loc.file if loc else "<unknown>", loc.line if loc else 0, call,
                    _label_of(loc) if not in_keras else "")
        with self._quiet(analysing=False):
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
                        numeric_slots(_flat_results(result, flat_sources), slots)
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
                    report = self._eager_report(site, tape, target, flat_sources, names, flat_results, start)
                elif getattr(graph, "_building_function", False) or not hasattr(graph, "as_graph_def") \
                        or is_func_graph(graph):
                    report = traced_report(site, graph, target, flat_sources, names, flat_results,
                                           time.perf_counter() - start, numeric=False)
                    slots = numeric_slots(flat_results) if self._depth > 0 else None
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
            self.traced_checks.append((item, slots))
            try:
                with self._quiet():
                    item = SiteReport(item.site, with_values(item.report, slots), item.source_ids, item.target_ids)
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
        self._recorder.start(tape)

    def _tape_done(self, tape: Any) -> None:
        key = getattr(tape, "_gradflow_enter_key", None)
        if key is not None:
            self._done_fast.add(key)
        self._recorder.forget(tape)

    def _stop_recording_all(self) -> None:
        self._recorder.stop()

    def _eager_report(self, site: Site, tape: Any, target: Any, sources: list, names: list, results: list,
                      start: float) -> Any:
        records = self._recorder.records_of(tape)
        args = (site, target, sources, names, results, self._recorder, records, self.resolver,
                time.perf_counter() - start)
        try:
            return eager_report(*args)
        except Exception as exc:  # noqa: BLE001 - an op TensorFlow cannot re-create in a graph
            return walk_report(*args, why_not=f"{type(exc).__name__}: {exc}")


def _keras_call(frame: Any) -> str:
    """What the user called when Keras computes the gradient: ``model.fit train_step``,
    ``model.train_on_batch train_step``, ``optimizer.minimize``, or ``tape.gradient`` (a user's own loop)."""
    names = set()
    while frame is not None:
        if "keras" in (frame.f_code.co_filename or ""):
            names.add(frame.f_code.co_name)
        frame = frame.f_back
    if "train_on_batch" in names:
        return "model.train_on_batch train_step"
    if "fit" in names:
        return "model.fit train_step"
    if "minimize" in names:
        return "optimizer.minimize"
    return "tape.gradient"


def _flat_results(result: Any, flat_sources: list) -> list:
    if isinstance(result, (list, tuple)) and len(result) != len(flat_sources):
        return list(result)
    return _flat(result)


def _target_ids(target: Any) -> tuple:
    return tuple(id(t) for t in _flat(target))
