"""The Python API: gradflow.inspect on functions, modules, Keras models and TF1 tensors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
import keras

import gradflow
from gradflow import Status


def test_inspect_a_plain_function_with_example_args():
    w = tf.Variable(tf.ones([3, 1]), name="w")
    b = tf.Variable(0.5, name="b")
    x = tf.ones([2, 3])

    def loss(x):
        return tf.reduce_sum(tf.stop_gradient(x @ w) + b)

    report = gradflow.inspect(loss, x, variables=[w, b])
    assert report.status("w") is Status.BLOCKED
    assert report.status("b") == "flows"
    assert report.variable("b").grad_norm == pytest.approx(2.0)
    assert report.summary["blocked"] == 1
    data = json.loads(report.to_json())
    assert data["schema"] == "gradflow.report/1" and data["source"] is None
    with pytest.raises(KeyError, match="variables: w, b"):
        report.status("nope")


def test_report_prints_as_the_terminal_report():
    w = tf.Variable(2.0, name="w")
    report = gradflow.inspect(lambda: w * w, variables=[w])
    text = str(report)
    assert "w" in text and "✓ flows" in text and "the 1 trainable variable learns" in text


def test_tf_module_with_call():
    class Scale(tf.Module):
        def __init__(self):
            super().__init__(name="scale")
            self.k = tf.Variable(3.0, name="k")
            self.frozen = tf.Variable(1.0, name="frozen", trainable=False)
            self.unused = tf.Variable(1.0, name="unused")

        def __call__(self, x):
            return tf.reduce_sum(x * self.k * self.frozen)

    module = Scale()
    report = gradflow.inspect(module, tf.ones([4]))
    assert [v.name for v in report.variables] == ["frozen", "k", "unused"]
    assert report.status("k") == "flows"
    # Not trainable, but connected: TensorFlow's gradient exists when watched.
    assert report.status("frozen") == "flows" and not report.variable("frozen").trainable
    assert report.status("unused") == "disconnected"


def test_compiled_keras_model_uses_its_compiled_loss():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    features = keras.layers.Dense(3, name="features")(inputs)
    out = keras.layers.Dense(1, name="head")(keras.ops.stop_gradient(features))
    model = keras.Model(inputs, out)
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((5, 4), "float32")
    y = np.zeros((5, 1), "float32")
    report = gradflow.inspect(model, x, y, strict=True)
    assert report.kind == "keras"
    assert report.status("features/kernel") == "blocked"
    assert report.status("head/kernel") == "flows"
    (blocker,) = report.variable("features/kernel").blockers
    assert blocker.type == "StopGradient"
    # Keras replays the functional graph inside gradflow's call: no frame of this file built
    # the op (the line calling gradflow.inspect is not where the model was written).
    assert blocker.location is None


def test_tf1_graph_tensor_with_feed_dict():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 2])
        w = tf.compat.v1.get_variable("w", [2, 1])
        k = tf.compat.v1.get_variable("k", [1])
        loss = tf.reduce_sum(tf.matmul(x, w) * tf.round(k))
    report = gradflow.inspect(loss, feed_dict={x: np.ones((3, 2), "float32")}, strict=True)
    assert report.kind == "tf1"
    assert report.status("k") == "blocked"
    assert report.variable("k").blockers[0].type == "Round"
    assert report.status("w") in ("flows", "zero")


def test_non_scalar_loss_is_summed_and_said():
    w = tf.Variable([1.0, 2.0], name="w")
    report = gradflow.inspect(lambda: w * 3.0, variables=[w])
    assert report.status("w") == "flows"
    assert any("sum" in note for note in report.notes)
    assert report.variable("w").grad_norm == pytest.approx(np.hypot(3.0, 3.0))


def test_repeated_names_get_numbered():
    a = tf.Variable(1.0, name="w")
    b = tf.Variable(2.0, name="w")
    report = gradflow.inspect(lambda: a * b, variables=[a, b])
    assert [v.name for v in report.variables] == ["w", "w#2"]
