"""Untracked and unread variables (issue 7): what model.fit or an optimizer would miss."""

from __future__ import annotations

import json
import textwrap

import gradflow


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


def line_of(path, fragment):
    return next(i for i, line in enumerate(open(path).read().splitlines(), 1) if fragment in line)


def test_keras_layer_creating_a_variable_in_call(tmp_path):
    path = write(tmp_path, "incall.py", """\
        import keras, numpy as np, tensorflow as tf
        class Scale(keras.layers.Layer):
            def call(self, x):
                if not hasattr(self, "s"):
                    self.s = tf.Variable(2.0, name="scale_in_call")
                return x * self.s
        inputs = keras.Input((3,))
        h = keras.layers.Dense(2, name="dense")(inputs)
        extra = keras.layers.Dense(4, name="unused_head")(inputs)
        model = keras.Model(inputs, [Scale()(h), extra])
        def loss(x):
            return tf.reduce_sum(model(x)[0])
        example_inputs = (np.ones((4, 3), "float32"),)
        """)
    report = gradflow.inspect_file(path, strict=True)
    (untracked,) = report.untracked
    assert untracked.name == "scale_in_call" and untracked.status == "flows"
    assert untracked.created_at.line == line_of(path, 'tf.Variable(2.0')
    assert {v.name for v in report.unread} == {"unused_head/kernel", "unused_head/bias"}
    assert report.variable("dense/kernel").tracked is True
    data = json.loads(report.to_json())
    assert [e["name"] for e in data["tracking"]["untracked"]] == ["scale_in_call"]
    assert data["tracking"]["untracked"][0]["created_at"]["line"] == untracked.created_at.line
    text = str(report)
    assert "untracked:" in text and "scale_in_call" in text and "unread:" in text


def test_tf_module_keeping_variables_in_a_plain_dict(tmp_path):
    path = write(tmp_path, "plaindict.py", """\
        import tensorflow as tf
        store = {"w": tf.Variable([1.0, 2.0], name="w")}
        class Model(tf.Module):
            def __init__(self):
                super().__init__()
                self.b = tf.Variable(0.5, name="b")
            def __call__(self, x):
                return tf.reduce_sum(x * store["w"]) + self.b
        loss = Model()
        example_inputs = (tf.ones([2]),)
        """)
    report = gradflow.inspect_file(path, strict=True)
    assert [v.name for v in report.untracked] == ["w"]
    assert report.untracked[0].created_at.line == 2
    assert report.variable("b").tracked is True and not report.unread


def test_nothing_to_say_when_everything_is_tracked_and_read():
    report = gradflow.inspect_file("examples/stop_gradient.py")
    assert report.untracked == () and report.unread == ()
    assert report.variable("w1").created_at.line == 8
    assert report.to_dict()["tracking"] == {"untracked": [], "unread": []}
