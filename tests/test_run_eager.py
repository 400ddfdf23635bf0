"""An eager ``tape.gradient`` gets the report a traced one gets: the recorded ops rebuilt as a graph.

tests/scripts/eager_cuts.py holds one small model whose variables meet every
kind of cut (a frozen teacher behind ``tf.stop_gradient``, an integer cast, an
``argmax``, an unused head, a partly stopped path). Its step runs eagerly and
inside a ``tf.function`` under ``gradflow.watch()``, and its loss goes through
``gradflow.inspect``: the three reports must say the same thing, variable by
variable (status, path counts, blockers with op type, decisive flag, origin and
line), and every status must agree with what TensorFlow's own call returned.
"""

from __future__ import annotations

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def cuts():
    sys.path.insert(0, os.path.join(HERE, "scripts"))
    try:
        import eager_cuts
    finally:
        sys.path.remove(os.path.join(HERE, "scripts"))
    return eager_cuts


def _watched(fn, *args):
    import gradflow

    with gradflow.watch(show=False) as w:
        result = fn(*args)
    assert not w.errors, w.errors
    flat = result if isinstance(result, (list, tuple)) else [result]
    return w.reports, [g is None for g in flat]


def _line(module, text: str) -> int:
    with open(module.__file__) as fh:
        return next(i for i, line in enumerate(fh, 1) if text in line)


def _summary(report) -> dict:
    return {v.name: (v.status.value, v.paths.total, v.paths.blocked, v.expected,
                     sorted((b.type, b.decisive, b.origin, str(b.location)) for b in v.blockers))
            for v in report.variables}


def _agrees_with_tensorflow(report, is_none: list) -> None:
    assert len(report.variables) == len(is_none)
    for v, none in zip(report.variables, is_none):
        assert (v.status.value in ("blocked", "disconnected")) == none, (v.name, v.status, none)
    assert not report.mismatches, report.mismatches


def test_eager_report_equals_traced_and_inspect(cuts):
    import gradflow

    eager_reports, eager_none = _watched(cuts.step, cuts.x, cuts.y)
    traced_reports, traced_none = _watched(cuts.traced_step, cuts.x, cuts.y)
    assert eager_none == traced_none
    eager, traced = eager_reports[0].report, traced_reports[0].report
    _agrees_with_tensorflow(eager, eager_none)
    _agrees_with_tensorflow(traced, traced_none)
    assert eager.kind == "eager" and eager.flow is not None
    assert any("rebuilt as a graph" in n for n in eager.notes)
    inspected = gradflow.inspect(cuts.loss_fn, cuts.x, cuts.y, variables=cuts.variables)
    assert _summary(eager) == _summary(traced) == _summary(inspected)
    stops = [(s.location, s.shields, s.origin) for s in eager.stop_gradients]
    assert stops == [(s.location, s.shields, s.origin) for s in traced.stop_gradients]

    by_name = {v.name: v for v in eager.variables}
    teacher = next(v for name, v in by_name.items() if name.endswith("teacher/kernel"))
    assert teacher.status.value == "blocked" and teacher.expected is True  # frozen on purpose
    assert [(b.type, b.decisive, b.location.line) for b in teacher.blockers] == [
        ("StopGradient", True, _line(cuts, "tf.stop_gradient(teacher(x))"))]
    assert by_name["scale"].blockers[0].type == "Cast" and by_name["scale"].blockers[0].fix
    assert by_name["bins"].blockers[0].type == "ArgMax" and by_name["bins"].blockers[0].decisive
    assert by_name["unused_head/kernel"].status.value == "disconnected"
    assert (by_name["body/kernel"].paths.total, by_name["body/kernel"].paths.blocked) == (2, 1)  # partly stopped
    assert eager.loss is not None and eager.loss.finite
    assert by_name["head/kernel"].grad_norm == pytest.approx(
        float(__import__("numpy").linalg.norm(cuts.step(cuts.x, cuts.y)[2].numpy())), rel=1e-5)


@pytest.mark.parametrize("case,expected", [
    ("fn_call", {"w": "flows", "u": "blocked"}),  # a tf.function called under an eager tape
    ("built_inside", {"late/kernel": "blocked", "late/bias": "blocked"}),  # layer built while recording
    ("watched_tensor", {"source[0]": "flows"}),  # a watched tensor, partly cut by an integer cast
    ("two_targets", {"w": "flows", "u": "blocked"}),
])
def test_eager_special_calls(cuts, case, expected):
    reports, is_none = _watched(getattr(cuts, case))
    assert len(reports) == 1
    report = reports[0].report
    _agrees_with_tensorflow(report, is_none)
    assert any("rebuilt as a graph" in n for n in report.notes)
    assert {v.name: v.status.value for v in report.variables} == expected
    for v in report.variables:
        if v.status.value == "blocked":
            assert any(b.decisive and b.type == "StopGradient" for b in v.blockers)
    if case == "fn_call":  # the cut inside the tf.function's body is named at its own line
        (b,) = report.variables[1].blockers
        assert b.location.line == _line(cuts, "tf.stop_gradient(tf.matmul(a, u))")
    if case == "watched_tensor":
        (v,) = report.variables
        assert (v.paths.total, v.paths.blocked) == (2, 1) and v.blockers[0].location.line


def test_nested_eager_tapes_see_the_inner_gradient(cuts):
    # The outer tape differentiates the gradient penalty, computed by the inner tape's backward ops:
    # they are recorded, so every critic variable has its two paths (the loss and the penalty).
    reports, is_none = _watched(cuts.penalty)
    assert [r.site.line for r in reports] == sorted(r.site.line for r in reports) and len(reports) == 2
    outer = reports[-1].report
    _agrees_with_tensorflow(outer, is_none)
    kernel = outer.variables[0]
    assert kernel.status.value == "flows" and kernel.paths.total >= 2


def test_nonfinite_eager_loss_names_its_first_op():
    import numpy as np
    import tensorflow as tf

    w = tf.Variable([1.0, -2.0], name="w")

    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.math.log(w * 3.0))  # log of a negative value: NaN
        return tape.gradient(loss, [w])

    reports, is_none = _watched(step)
    report = reports[0].report
    _agrees_with_tensorflow(report, is_none)
    assert not np.isfinite(float(tf.reduce_sum(tf.math.log(w * 3.0))))  # TensorFlow's own loss
    assert report.loss is not None and not report.loss.finite
    first = report.loss.first_nonfinite
    assert first.type == "Log" and first.location.line == step.__code__.co_firstlineno + 2
    assert "negative" in first.reason and "the loss is NaN or Inf" in report.notes[0]


def test_eager_falls_back_to_a_walk_over_the_record(cuts, monkeypatch):
    # Should an op not rebuild as a graph, the record is walked: the same verdicts, the cuts named, a note.
    import gradflow.intercept

    def cannot(*args, **kwargs):
        raise TypeError("an op that does not rebuild")

    monkeypatch.setattr(gradflow.intercept, "eager_report", cannot)
    reports, is_none = _watched(cuts.step, cuts.x, cuts.y)
    report = reports[0].report
    _agrees_with_tensorflow(report, is_none)
    assert any("could not be rebuilt as a graph (TypeError: an op that does not rebuild)" in n for n in report.notes)
    by_name = {v.name: v for v in report.variables}
    assert [b.type for b in by_name["bins"].blockers] == ["ArgMax"]
    assert by_name["bins"].blockers[0].location.line == _line(cuts, "tf.argmax(bins")


def test_zero_gradient_cause_equals_inspect():
    # A dead ReLU: the bias's gradient is all zero; the eager report names the op and the value, as inspect does.
    import tensorflow as tf

    import gradflow

    w = tf.Variable([[1.0, -2.0], [0.5, -1.0]], name="w")
    bias = tf.Variable([[-5.0, -5.0]], name="bias")
    x = tf.constant([[1.0, 1.0]])

    def loss_fn(x):
        hidden = tf.nn.relu(tf.matmul(x, w) + bias)
        return tf.reduce_sum(hidden) + tf.reduce_sum(tf.math.log(-w[0:1, 1:2]))

    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn(x)
        return tape.gradient(loss, [w, bias])

    reports, is_none = _watched(step)
    eager = reports[0].report
    _agrees_with_tensorflow(eager, is_none)
    inspected = gradflow.inspect(loss_fn, x, variables=[w, bias])
    assert [(v.status, v.why) for v in eager.variables] == [(v.status, v.why) for v in inspected.variables]
    cause = eager.variable("bias").numeric_cause
    assert eager.variable("bias").status.value == "zero" and cause.type == "Relu" and "dead ReLU" in cause.reason
    assert cause.location.line == loss_fn.__code__.co_firstlineno + 1


def test_recording_ends_when_the_tapes_exit():
    # A persistent tape keeps its record for its later gradient calls, but no op is recorded after it exits:
    # an eager loop pays for the op callback during its first step only.
    import tensorflow as tf
    from tensorflow.python.eager import context

    import gradflow

    v = tf.Variable([1.0, 2.0], name="v")
    hooked = []
    with gradflow.watch(show=False) as w:
        for _ in range(3):
            with tf.GradientTape(persistent=True) as tape:
                a = tf.reduce_sum(v * v)
                b = tf.reduce_sum(tf.stop_gradient(v) * 2.0)
                hooked.append(len(context.context().op_callbacks))
            ga = tape.gradient(a, [v])
            gb = tape.gradient(b, [v])
            hooked.append(len(context.context().op_callbacks))
    assert hooked == [1, 0, 0, 0, 0, 0]
    assert [[x.status.value for x in r.report.variables] for r in w.reports] == [["flows"], ["blocked"]]
    assert ga[0] is not None and gb[0] is None
