"""Expected vs suspicious: which variables are meant not to learn, and --fail-on --ignore-expected."""

from __future__ import annotations

import pytest

from gradflow.render.terminal import render_text
from gradflow.report import Blocker, Status
from gradflow.sources import Location

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


def test_a_library_cut_on_a_learning_variables_paths_is_not_its_blocker():
    # BatchNormalization's moments StopGradient cuts some of the kernel's paths (through the
    # batch variance); the kernel learns, and that cut is by design: counted in `paths`,
    # listed in `stop_gradients`, never in the kernel's `blockers`. The user's own cut on one
    # of w's two paths makes w partially blocked, and stays its blocker.
    import keras
    import numpy as np
    import tensorflow as tf

    import gradflow

    keras.utils.set_random_seed(0)
    dense = keras.layers.Dense(4, name="dense")
    norm = keras.layers.BatchNormalization(name="bn")
    w = tf.Variable(np.ones((3, 4), "float32"), name="w")
    x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")

    @tf.function
    def loss(x):
        h = norm(dense(x), training=True)
        return tf.reduce_sum(tf.square(h)) + tf.reduce_sum(x @ w) + tf.reduce_sum(tf.stop_gradient(x @ w) * h)

    report = gradflow.inspect(loss, x, strict=True)
    with tf.GradientTape() as tape:
        value = loss(x)
    grads = tape.gradient(value, [dense.kernel, w])
    assert all(g is not None for g in grads)  # the oracle: both learn
    kernel, w_report = report.variable("dense/kernel"), report.variable("w")
    assert kernel.status is Status.FLOWS and 0 < kernel.paths.blocked < kernel.paths.total
    assert kernel.blockers == () and not kernel.partially_blocked and kernel.why == ""
    assert any(sg.op.endswith("moments/StopGradient") for sg in report.stop_gradients)
    assert w_report.status is Status.FLOWS and w_report.partially_blocked
    assert [b.type for b in w_report.blockers] == ["StopGradient"] and w_report.blockers[0].origin == "user"
    assert "paths cut: tf.stop_gradient at" in w_report.why
