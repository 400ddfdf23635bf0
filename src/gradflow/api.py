"""Runs the stages in order and returns the :class:`~gradflow.report.Report`.

load -> trace -> analysis graph -> autodiff -> cuts -> verdicts. Stage names
match the report's ``timings`` keys.
"""

from __future__ import annotations

import gc
from dataclasses import replace
import time
from contextlib import contextmanager
from typing import Any, Iterator

from .errors import AnalysisMismatch
from .loading import Target, check_options, forget_autograph_conversions, load_model, python_target, tf_state_guard
from .progress import stage
from .report import Report

__all__ = ["inspect", "inspect_file", "inspect_file_quietly", "run_target", "timed"]


@contextmanager
def timed(timings: dict, key: str) -> Iterator[None]:
    """Add the seconds the block takes to ``timings[key]`` (the report's ``timings``)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[key] = timings.get(key, 0.0) + time.perf_counter() - start


# Set by the command line when gradflow is the program and ends without tearing the
# interpreter down (``inspect``, ``diff``): then what is set aside stays set aside.
_ONE_SHOT = False


def one_shot_process() -> None:
    """Let gradflow keep Python's cyclic collector off everything it has built until the process ends.

    For the command line only, where the process ends by ``os._exit`` once the
    report is written: the objects alive at each stage's end (TensorFlow's
    modules, the user's model, the traced graph) live until then anyway, and
    each full collection would walk all of them again (about 2 s on DenseNet121,
    much of it while importing TensorFlow and writing the JSON report).
    """
    global _ONE_SHOT
    _ONE_SHOT = True


def set_aside() -> None:
    """In a one-shot process, set the objects alive now aside from the cyclic collector (``gc.freeze``)."""
    if _ONE_SHOT:
        gc.freeze()


@contextmanager
def collector_paused(*, lives_on: bool = False) -> Iterator[None]:
    """In a one-shot process, no cyclic collection inside the block, and what it built set aside after.

    For importing TensorFlow: hundreds of thousands of long-lived objects, which
    the collector would otherwise walk several times while they are made, and
    again at every full collection after. ``lives_on``: what the block builds
    lives as long as the process in any case (a site worker's imports), so it
    is set aside even when the process is not one-shot.
    """
    if not (_ONE_SHOT or lives_on) or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.freeze()


@contextmanager
def collector_off_the_trace() -> Iterator[Any]:
    """Keep Python's cyclic collector from walking the traced model while gradflow works on it.

    A traced Keras model is hundreds of thousands of Python objects, and each
    full collection that the analysis' own allocations trigger walks all of
    them (a third of a second on DenseNet121). ``gc.freeze`` sets the objects
    alive now aside until the analysis ends; anything made after is collected
    as usual.
    """
    if _ONE_SHOT:  # nothing is unfrozen before the process ends
        gc.freeze()
        yield gc.freeze
        return
    if gc.get_freeze_count():  # the caller froze its own heap: leave it as it is
        yield lambda: None
        return
    gc.freeze()
    try:
        yield gc.freeze  # call again to set aside what TensorFlow built since (the gradient graph)
    finally:
        gc.unfreeze()


def _check_path_argument(path: Any) -> str:
    """``path`` as a str: a str or an ``os.PathLike`` naming a str path; anything else is an ArgumentError."""
    import os

    from .errors import ArgumentError

    if isinstance(path, os.PathLike):
        try:
            path = os.fspath(path)
        except TypeError:
            path = None
    if not isinstance(path, str):
        raise ArgumentError(f"path {path!r}: give the model file's path as a str or a pathlib.Path, "
                            f"not {type(path).__name__}")
    if not path or "\0" in path:
        raise ArgumentError(f"path {path!r}: give the model file's path (a non-empty name without NUL characters)")
    return path


def _check_name_arguments(**names: Any) -> None:
    from .errors import ArgumentError

    for key, value in names.items():
        if value is not None and not isinstance(value, str):
            raise ArgumentError(f"{key} {value!r}: give a name (a str) or leave it out, not {type(value).__name__}")
        if isinstance(value, str) and (not value or "\0" in value):
            raise ArgumentError(f"{key} {value!r}: give a non-empty name")


def inspect_file(path: str, *, target: str | None = None, inputs: str | None = None,
                 function: str | None = None, loss: str | None = None, strict: bool = False,
                 static: bool = False, progress: Any = None) -> Report:
    """Inspect a model file, as ``gradflow inspect FILE`` does.

    Args:
        path: a Python model file (``.py``), a SavedModel directory, or a
            GraphDef (``.pb`` binary, ``.pbtxt`` text): a ``str`` or an
            ``os.PathLike`` (``pathlib.Path``).
        target: for a ``.py`` file, the attribute to inspect (``--target``);
            default: the contract's order.
        inputs: for a ``.py`` file, the attribute holding the example inputs (``--inputs``).
        function: for a SavedModel, the exported function returning the loss
            (``--function``): an attribute path (``loss``, ``model.loss``) or a
            signature key.
        loss: for a GraphDef, the loss tensor's name, ``name`` or ``name:0``
            (``--loss``). The graph is analysed without running it.
        strict: raise :class:`AnalysisMismatch` when the graph analysis disagrees
            with TensorFlow (always a gradflow bug) instead of noting it.
        static: skip TensorFlow's autodiff and the numeric check; the verdicts
            come from the graph and TensorFlow's gradient registry alone
            (``flows`` then means "a gradient exists"; ``report.mode == "static"``).
        progress: called with each stage's text ("loading", "tracing"...), for
            a progress line; gradflow itself prints nothing.

    Returns:
        The report.

    Raises:
        UserError: a subclass naming what is wrong with the file and how to fix it
            (:class:`~gradflow.errors.ArgumentError` for an argument of the wrong type).

    Example:
        ```python
        gradflow.inspect_file("model.py")
        gradflow.inspect_file("exported/", function="loss")    # a SavedModel
        gradflow.inspect_file("graph.pb", loss="loss:0")       # a GraphDef
        ```
    """
    path = _check_path_argument(path)
    _check_name_arguments(target=target, inputs=inputs, function=function, loss=loss)
    timings = {"load_s": 0.0, "trace_s": 0.0, "analysis_s": 0.0, "autodiff_s": 0.0, "render_s": 0.0}
    stage(progress, "loading")
    with tf_state_guard():
        with timed(timings, "load_s"):
            import tensorflow as tf

            # A TF1-style file builds into the default graph: start each file on
            # an empty one, so that two files' get_variable names never clash.
            tf.compat.v1.reset_default_graph()
            forget_autograph_conversions()
            tgt = load_model(path, target=target, inputs=inputs, function=function, loss=loss)
        set_aside()  # the user's model lives until the report is made
        return run_target(tgt, strict=strict, timings=timings, static=static, progress=progress)


def inspect_file_quietly(path: str, *, target: str | None = None, inputs: str | None = None,
                         function: str | None = None, loss: str | None = None, strict: bool = False,
                         static: bool = False, progress: Any = None) -> Report:
    """:func:`inspect_file` as the commands run it (``inspect``, ``explain``, a model side of ``diff``).

    A wrong path or option fails before TensorFlow loads; TensorFlow's import
    notices are dropped; and whatever the model file prints goes to stderr, so
    that stdout belongs to the report alone. The arguments are
    :func:`inspect_file`'s.
    """
    import contextlib
    import sys

    from .tfquiet import import_tensorflow

    model = dict(target=target, inputs=inputs, function=function, loss=loss)
    check_options(path, **model)  # a wrong path or option fails before TensorFlow loads
    # The user's module may print; stdout belongs to the report alone.
    with contextlib.redirect_stdout(sys.stderr):
        with collector_paused():
            import_tensorflow()
        return inspect_file(path, **model, strict=strict, static=static, progress=progress)


def inspect(target: Any, *example_args: Any, variables: Any = None, feed_dict: dict | None = None,
            name: str | None = None, strict: bool = False, static: bool = False, progress: Any = None,
            **example_kwargs: Any) -> Report:
    """Inspect a loss from Python: a function, a compiled Keras model or a TF1 loss tensor.

    Args:
        target: a ``tf.function``, a plain function, a ``tf.Module`` with
            ``__call__``, a compiled ``keras.Model`` (give ``x, y``), or a TF1
            graph tensor (give ``feed_dict`` or let gradflow synthesise feeds).
        *example_args: positional example inputs.
        variables: the variables to report on; default: those the loss reads
            and those of ``target`` itself.
        feed_dict: placeholder -> value, for a TF1 tensor.
        name: how the report names the target.
        strict: raise :class:`AnalysisMismatch` on a disagreement with TensorFlow.
        static: skip TensorFlow's autodiff and the numeric check (see :func:`inspect_file`).
        progress: called with each stage's text, as for :func:`inspect_file`.
        **example_kwargs: keyword example inputs.

    Returns:
        The report; print it for the terminal view.

    Example:
        ```python
        report = gradflow.inspect(loss_fn, x)
        print(report)
        assert report.status("w1") == "flows"
        ```
    """
    timings = {"load_s": 0.0, "trace_s": 0.0, "analysis_s": 0.0, "autodiff_s": 0.0, "render_s": 0.0}
    with tf_state_guard():
        with timed(timings, "load_s"):
            tgt = python_target(target, example_args, example_kwargs, variables=variables,
                                feed_dict=feed_dict, name=name)
        return run_target(tgt, strict=strict, timings=timings, static=static, progress=progress)


def _forget_locations(flow: Any) -> None:
    """No location for any op of a model that keeps no Python source (a SavedModel, a GraphDef).

    Ops TensorFlow builds while loading one (a TF1 SavedModel's pruned
    signatures) record the stack of whoever called gradflow, not the model's
    source.
    """
    for _, data in flow.G.nodes(data=True):
        data["location"] = None
        data["origin"] = data["call"] = None


# What a static report says in its notes (and what ``--static`` promises).
STATIC_NOTE = ("static mode: TensorFlow's autodiff did not run; the verdicts come from the graph and "
               "TensorFlow's gradient registry (flows means a gradient exists; zero and nonfinite are not checked)")


def run_target(target: Target, *, strict: bool = False, timings: dict | None = None,
               traced: Any = None, static: bool = False, progress: Any = None) -> Report:
    """Trace, analyse and differentiate one :class:`Target` into a report.

    ``traced``: the target's :class:`~gradflow.tracing.Trace` when the caller
    already made it (``gradflow train``); it must not have been differentiated yet.
    ``static``: skip the autodiff stage (see :func:`inspect_file`).
    """
    from .autodiff import AutodiffResult, compute_gradients, optimized_for_one_run
    from .cuts import annotate_cuts
    from .flowgraph import build_flowgraph
    from .tracing import trace
    from .verdict import stop_gradient_reports, variable_reports, with_numeric_cause

    timings = timings if timings is not None else {}
    stage(progress, "tracing")
    with timed(timings, "trace_s"):
        tr = traced if traced is not None else trace(target)
    with collector_off_the_trace() as set_aside_new_objects:
        with timed(timings, "analysis_s"):
            flow, ops = build_flowgraph(tr)
            if target.origin != "python":
                _forget_locations(flow)
        stage(progress, f"traced {flow.G.number_of_nodes()} ops; " + (
            "static mode: no autodiff" if static else f"TensorFlow autodiff over {len(tr.variables)} variables"))
        with timed(timings, "autodiff_s"), optimized_for_one_run():
            if static:  # no gradient: decide() takes the graph's prediction for every variable
                grads = AutodiffResult({}, numeric=False)
            else:
                grads = compute_gradients(tr)
                set_aside_new_objects()
        stage(progress, "analysis")
        with timed(timings, "analysis_s"):
            annotate_cuts(flow, ops)
            variables, mismatches = variable_reports(tr.variables, flow, grads)
            stop_gradients = stop_gradient_reports(flow)
        with timed(timings, "autodiff_s"), optimized_for_one_run():  # TensorFlow evaluates, on the example inputs
            from .numeric import loss_value, numeric_causes

            loss = loss_value(tr, flow, grads.loss_value) if grads.error is None else None
            causes = numeric_causes(tr, flow, variables) if grads.numeric and grads.error is None else {}
            variables = tuple(with_numeric_cause(v, causes.get(v.name)) for v in variables)
    owners = {r.name: (r.layer, r.layer_class) for r in tr.variables if getattr(r, "layer", None)}
    if owners:  # the layer view's owners, found while tracing
        variables = tuple(replace(v, layer=owners[v.name][0], layer_class=owners[v.name][1])
                          if v.name in owners and v.layer is None else v for v in variables)
    notes = list(tr.notes)
    if loss is not None and not loss.finite:
        where = loss.first_nonfinite
        at = f": first at {where.type} at {where.location or where.op}" if where else ""
        why = f" ({where.reason})" if where and where.reason else ""
        notes.insert(0, f"the loss is NaN or Inf on the example inputs{at}{why}")
    if static:
        notes.append(STATIC_NOTE)
        if flow.probe_errors:
            notes.append(f"{len(flow.probe_errors)} op(s) whose gradient function could not be probed "
                         "are assumed to pass the gradient (the full mode's autodiff would decide)")
    if grads.error:
        notes.append(
            f"TensorFlow's autodiff raised {grads.error.rstrip('.')}; the verdicts come from the graph "
            "analysis alone, with no numeric check"
        )
    if mismatches:
        detail = "; ".join(mismatches)
        if strict:
            raise AnalysisMismatch(f"{detail}. Probe errors: {flow.probe_errors or 'none'}")
        notes.append(
            f"gradflow's graph analysis disagrees with TensorFlow ({detail}); the verdicts follow "
            "TensorFlow. This is a gradflow bug: please report it."
        )
    timings.setdefault("render_s", 0.0)
    return Report(
        source=target.source,
        target=target.name,
        kind=target.kind,
        inputs=target.inputs_note,
        variables=variables,
        stop_gradients=stop_gradients,
        notes=tuple(notes),
        loss=loss,
        numeric=grads.numeric and grads.error is None,
        mismatches=mismatches,
        mode="static" if static else "full",
        timings=timings,
        flow=flow,
    )
