"""Expected vs suspicious: which variables are meant not to learn, and --fail-on --ignore-expected."""

from __future__ import annotations

import os

import pytest

from gradflow.analysis import PathCount
from gradflow.cuts import Cut, CutKind
from gradflow.fixes import SHAPE, SOFT, body_of, fix_for
from gradflow.render.terminal import render_text
from gradflow.report import Blocker, Report, Status, StopGradientReport, VariableReport
from gradflow.sources import Location

from conftest import EXAMPLES, MISTAKES, ROOT
from conftest import inspect_at_root as inspect

pytestmark = pytest.mark.usefixtures("at_root")


# -- expected vs suspicious ----------------------------------------------------
def test_expected_fields():
    from gradflow.verdict import expectation

    sg = Blocker("sg", "StopGradient", Location("m.py", 3), "tf.stop_gradient", "stop_gradient")
    am = Blocker("am", "ArgMax", Location("m.py", 4), "ArgMax has no gradient", "integer_output")
    assert expectation(Status.FLOWS, True, ()) == (None, "")
    assert expectation(Status.BLOCKED, True, (sg,))[0] is True
    assert "frozen on purpose" in expectation(Status.BLOCKED, True, (sg,))[1]
    assert expectation(Status.BLOCKED, True, (sg, am))[0] is False
    assert expectation(Status.BLOCKED, True, (am,))[0] is False
    assert expectation(Status.DISCONNECTED, True, ())[0] is False
    assert "unused head" in expectation(Status.DISCONNECTED, True, ())[1]
    assert expectation(Status.DISCONNECTED, False, ())[0] is True
    assert expectation(Status.ZERO, False, ())[0] is True


def test_fail_on_ignores_expected_only_when_asked(run_cli):
    proc = run_cli("inspect", "examples/stop_gradient.py", "--format", "json", "--fail-on", "blocked",
                   "--ignore-expected")
    assert proc.returncode == 0, proc.stderr
    assert "ignored expected (--ignore-expected): w2 (blocked), w3 (blocked)" in proc.stderr
    v = {x["name"]: x for x in __import__("json").loads(proc.stdout)["variables"]}
    assert v["w2"]["expected"] is True and "frozen on purpose" in v["w2"]["expected_reason"]
    assert v["w1"]["expected"] is None
    proc = run_cli("inspect", "examples/stop_gradient.py", "--fail-on", "blocked")
    assert proc.returncode == 1  # the contract: any trainable match fails


def test_a_frozen_base_is_counted_in_the_expected_line(tmp_path):
    # Transfer learning: a base layer set trainable=False under a compiled head. TensorFlow
    # still has a gradient for the base's kernel (the loss depends on it); Keras does not train it.
    import keras
    import numpy as np
    import tensorflow as tf

    model_file = tmp_path / "transfer.py"
    model_file.write_text(
        "import keras\nimport numpy as np\n\n"
        "base = keras.layers.Dense(4, name='base')\nbase.trainable = False\n"
        "model = keras.Sequential([keras.Input((3,)), base, keras.layers.Dense(2, name='head')])\n"
        "model.compile(optimizer='sgd', loss='mse')\n"
        "example_inputs = (np.ones((2, 3), 'float32'), np.zeros((2, 2), 'float32'))\n")
    report = inspect(model_file)
    base = keras.layers.Dense(4)  # the oracle, on the same shapes
    m = keras.Sequential([keras.Input((3,)), base, keras.layers.Dense(2)])
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(m(np.ones((2, 3), "float32"))))
    assert all(g is not None for g in tape.gradient(loss, base.weights))
    frozen = [v for v in report.variables if "base/" in v.name]
    assert [(v.trainable, v.status) for v in frozen] == [(False, "flows")] * 2
    text = render_text(report, width=200)
    assert "all 2 trainable variables learn" in text
    assert "2 non-trainable variables that the gradient reaches (trainable=False: the optimizer skips them)" in text
