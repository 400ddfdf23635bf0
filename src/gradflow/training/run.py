"""The whole run: ``train`` and ``train_file``, the static verdict, a runner, the report."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from ..errors import InputsError
from .batches import BATCHES_ATTR, Batches
from .eager import run_eager
from .graph import run_graph
from .judge import decide_verdict, judge
from .optimizers import check_options
from .record import Recorder, as_float64, sample_indices
from .result import TIMING_KEYS, OptimizerInfo, TrainReport, VariableRun, WatchRun
from .step import TRAIN_OP_ATTR, WATCH_ATTR, TrainSetup

__all__ = ["train", "train_file", "DEFAULT_STEPS", "SEED"]

DEFAULT_STEPS = 100
SEED = 0


def _run(setup: TrainSetup, timings: dict) -> TrainReport:
    """Static verdict, training, verdicts. Call inside ``tf_state_guard()``."""
    from ..api import run_target
    from ..tracing import trace

    target = setup.target
    start = time.perf_counter()
    tr = trace(target)
    setup.refs = list(tr.variables)
    eager = target.kind != "tf1"
    snapshot = [(r.var, r.var.numpy()) for r in setup.refs] if eager else []
    static = run_target(target, traced=tr)
    # inspect ran the model once (BatchNorm statistics, RNG states move): start from the file's values
    for var, value in snapshot:
        var.assign(value)
    setup.start_values = snapshot
    timings["static_s"] = time.perf_counter() - start

    start = time.perf_counter()
    updated: dict[str, bool] = {}
    if eager:
        recorder, info, writers, watch_values = run_eager(setup)
    else:
        recorder, info, writers, watch_values, updated = run_graph(setup, tr)
    timings["train_s"] = time.perf_counter() - start
    return _report(setup, tr, static, recorder, info, writers, watch_values, updated, timings)


def _report(setup: TrainSetup, tr: Any, static: Any, recorder: Recorder, info: OptimizerInfo,
            writers: dict[str, list[str]], watch_values: list, updated: dict[str, bool],
            timings: dict) -> TrainReport:
    import numpy as np

    statics = {v.name: v for v in static.variables}
    notes = list(tr.notes) + list(setup.notes)
    missing = [r.name for r in setup.refs if r.name not in statics]
    if missing:
        notes.append(f"no static verdict for {', '.join(missing)}")
    runs = []
    for ref in setup.refs:
        name = ref.name
        grads = recorder.grads.get(name)
        sv = statics.get(name)
        first = recorder.first[name]
        last_flat = np.frombuffer(recorder.last[name], dtype=first.dtype)
        with np.errstate(all="ignore"):
            delta = float(np.sqrt(np.sum(np.square(np.abs(
                as_float64(last_flat) - as_float64(first.reshape(-1)))))))
        verdict = decide_verdict(recorder.first_bad_value[name], recorder.changed[name])
        trained = name in recorder.trained
        agrees, explanation = judge(
            verdict=verdict,
            static=sv.status.value if sv else None,
            trained=trained,
            grad_norms=[g[0] for g in grads] if grads is not None else None,
            first_nonfinite_grad_step=recorder.first_bad_grad[name],
            first_nonfinite_value_step=recorder.first_bad_value[name],
            writers=writers.get(name, []),
            weight_decay=info.weight_decay,
            train_op=info.origin == "train_op",
            updated_by_train_op=updated.get(name),
        )
        runs.append(VariableRun(
            name=name,
            shape=ref.shape,
            dtype=ref.dtype,
            trainable=ref.trainable,
            size=recorder.sizes[name],
            trained=trained,
            static_status=sv.status.value if sv else None,
            static_why=sv.why if sv else "",
            indices=tuple(int(i) for i in recorder.indices[name]),
            values=tuple(recorder.values[name]),
            norms=tuple(recorder.norms[name]),
            means=tuple(recorder.means[name]),
            grad_norms=tuple(g[0] for g in grads) if grads is not None else None,
            grad_abs_means=tuple(g[1] for g in grads) if grads is not None else None,
            grad_abs_maxes=tuple(g[2] for g in grads) if grads is not None else None,
            first_nonfinite_grad_step=recorder.first_bad_grad[name],
            first_nonfinite_value_step=recorder.first_bad_value[name],
            changed_steps=recorder.changed[name],
            delta_norm=delta,
            verdict=verdict,
            agrees=agrees,
            explanation=explanation,
            writers=tuple(writers.get(name, [])),
        ))
    watches = []
    for i, label in enumerate((setup.watch or {}).keys()):
        rows = [np.asarray(step[i]) for step in watch_values]
        size = int(rows[0].size) if rows else 0
        idx = sample_indices(size)
        shape = tuple(int(d) for d in rows[0].shape) if rows else None
        watches.append(WatchRun(
            label=str(label), shape=shape, size=size, indices=tuple(int(j) for j in idx),
            values=tuple(tuple(float(v) for v in as_float64(row.reshape(-1))[idx]) for row in rows),
        ))
    if not any(r.trained for r in runs):
        notes.append("no variable is trainable: the optimizer had nothing to update")
    batches = setup.batches.describe() if setup.batches is not None else f"{tr.target.inputs_note or 'no inputs'}, every step"
    loss_dtype = getattr(getattr(tr.loss, "dtype", None), "name", "float32")
    return TrainReport(
        source=setup.target.source,
        target=setup.target.name,
        kind=setup.target.kind,
        inputs=setup.target.inputs_note,
        batches=batches,
        optimizer=info,
        steps=setup.steps,
        loss=tuple(recorder.loss),
        variables=tuple(runs),
        watches=tuple(watches),
        first_nonfinite_step=recorder.first_bad_step,
        notes=tuple(notes),
        loss_dtype=loss_dtype,
        static=static,
        timings=timings,
    )


# ---------------------------------------------------------------------------
# Public entry points


def train(target: Any, *example_args: Any, steps: int = DEFAULT_STEPS, optimizer: Any = None,
          lr: float | None = None, batches: Any = None, variables: Any = None, feed_dict: dict | None = None,
          train_op: Any = None, watch: dict | None = None, name: str | None = None, restore: bool = True,
          progress: bool = False, **example_kwargs: Any) -> TrainReport:
    """Train a loss for ``steps`` real optimizer steps and record what each variable does.

    Args:
        target: a ``tf.function``, a plain function, a ``tf.Module`` with
            ``__call__``, a compiled ``keras.Model`` (give ``x, y``), or a TF1
            graph tensor (give ``feed_dict`` or let gradflow synthesise feeds).
        *example_args: positional example inputs (used at every step unless
            ``batches`` is given).
        steps: the number of optimizer steps. Defaults to 100.
        optimizer: ``"sgd"``, ``"adam"``, ``"rmsprop"``, or an optimizer object
            (Keras, or ``tf.compat.v1.train`` for a TF1 tensor). Defaults to
            None: a compiled model's own (a fresh clone), else the given
            TF1 ``train_op``, else ``"sgd"``.
        lr: the learning rate. Defaults to 0.1 (a compiled model's own
            optimizer keeps its own rate unless ``lr`` is given).
        batches: the inputs of successive steps, cycled (a list of batches, a
            ``tf.data.Dataset``, an iterator...).
        variables: the variables to report on; default: as ``gradflow.inspect``.
        feed_dict: placeholder -> value, for a TF1 tensor.
        train_op: a TF1 train op to run instead of building an optimizer.
        watch: label -> zero-argument function returning a tensor (or a TF1
            tensor), recorded at every step and drawn in the plot.
        name: how the report names the target.
        restore: put the variables back to their starting values afterwards.
            Defaults to True.
        progress: show a progress bar on stderr. Defaults to False.
        **example_kwargs: keyword example inputs.

    Returns:
        The :class:`TrainReport`; print it for the table, ``.plot(path)`` to draw it.

    Raises:
        UserError: a subclass naming what is wrong and how to fix it.

    Example:
        ```python
        run = gradflow.train(loss, x, steps=200)
        assert run.verdict("w2") == "frozen"
        run.plot("trajectories.svg")
        ```
    """
    from ..api import timed
    from ..loading import python_target, tf_state_guard

    check_options(steps, optimizer, lr)
    timings = {k: 0.0 for k in TIMING_KEYS}
    with tf_state_guard():
        with timed(timings, "load_s"):
            tgt = python_target(target, example_args, example_kwargs, variables=variables,
                                feed_dict=feed_dict, name=name)
            source = Batches(batches, label="batches") if batches is not None else None
        setup = TrainSetup(target=tgt, refs=[], static=None, steps=steps, batches=source, optimizer=optimizer,
                       lr=lr, watch=watch, train_op=train_op, progress=None, notes=[])
        from ..render.train_view import progress_bar

        with progress_bar(steps, progress) as callback:
            setup.progress = callback
            try:
                return _run(setup, timings)
            finally:
                if restore and tgt.kind != "tf1":
                    _restore(setup)


def _restore(setup: TrainSetup) -> None:
    """Put every variable back to the value it had before training."""
    for var, value in setup.start_values:
        var.assign(value)


def train_file(path: str, *, target: str | None = None, inputs: str | None = None, steps: int = DEFAULT_STEPS,
               optimizer: str | None = None, lr: float | None = None, progress: bool = False) -> TrainReport:
    """Train a model file's target, as ``gradflow train FILE`` does.

    Seeds Python's, NumPy's and TensorFlow's random generators (``keras.utils.set_random_seed(0)``)
    before importing the file, so that unseeded initialisers give the same start every run.

    Args:
        path: the model file.
        target, inputs: as for ``gradflow inspect`` (``--target``, ``--inputs``).
        steps: optimizer steps.
        optimizer: ``sgd``, ``adam``, ``rmsprop``; None: a compiled model's own,
            a TF1 file's ``train_op``, else sgd.
        lr: the learning rate; None: 0.1, or the model's own.
        progress: show a progress bar on stderr.

    Raises:
        UserError: a subclass naming the problem and its fix.
    """
    from ..api import timed
    from ..loading import tf_state_guard

    check_options(steps, optimizer, lr)
    timings = {k: 0.0 for k in TIMING_KEYS}
    with tf_state_guard():
        with timed(timings, "load_s"):
            tgt, batches, module = _load(path, target=target, inputs=inputs)
        watch = getattr(module, WATCH_ATTR, None)
        if watch is not None and not isinstance(watch, dict):
            raise InputsError(f"`{WATCH_ATTR}` in {path} must be a dict label -> function (or TF1 tensor).")
        train_op = getattr(module, TRAIN_OP_ATTR, None) if tgt.kind == "tf1" else None
        setup = TrainSetup(target=tgt, refs=[], static=None, steps=steps, batches=batches, optimizer=optimizer,
                       lr=lr, watch=watch, train_op=train_op, progress=None, notes=[])
        from ..render.train_view import progress_bar

        with progress_bar(steps, progress) as callback:
            setup.progress = callback
            return _run(setup, timings)


def _load(path: str, *, target: str | None, inputs: str | None) -> tuple[Any, Batches | None, Any]:
    """``loading.load_file``, plus ``example_batches``: its first batch stands in for missing example inputs."""
    import keras
    import tensorflow as tf

    from ..loading import is_graph_tensor, load_file

    keras.utils.set_random_seed(SEED)
    # A TF1 file builds into the process's default graph; a fresh one keeps a
    # second TF1 file (in the same process) from colliding with the first's names.
    with contextlib.suppress(AssertionError):  # inside someone's `with graph.as_default()`
        tf.compat.v1.reset_default_graph()
    found: dict[str, Batches] = {}

    def batches_of(module: Any) -> Batches | None:
        if "batches" not in found and hasattr(module, BATCHES_ATTR):
            found["batches"] = Batches(getattr(module, BATCHES_ATTR), label=BATCHES_ATTR)
        return found.get("batches")

    def first_batch(module: Any, obj: Any) -> tuple[str, Any] | None:
        batches = batches_of(module)
        if batches is None:
            return None
        value = batches.first()
        if not is_graph_tensor(obj) and not isinstance(value, (tuple, dict)):
            value = (value,)
        return f"{BATCHES_ATTR}[0]", value

    tgt = load_file(path, target=target, inputs=inputs, fallback_inputs=first_batch)
    return tgt, batches_of(tgt.module), tgt.module
