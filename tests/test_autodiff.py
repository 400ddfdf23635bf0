"""TensorFlow's autodiff as gradflow runs it: optimized for one run, with the values a training step gets."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import gradflow
from gradflow.autodiff import one_run_config, optimized_for_one_run


def _rewrite_options():
    from tensorflow.core.protobuf import config_pb2
    from tensorflow.python.eager import context

    config = config_pb2.ConfigProto()
    config.ParseFromString(context.context().function_call_options.config_proto_serialized)
    return config.graph_options.rewrite_options


def test_one_run_options_hold_inside_the_block_only():
    from tensorflow.core.protobuf import rewriter_config_pb2 as rc

    before = _rewrite_options()
    with optimized_for_one_run():
        inside = _rewrite_options()
        assert inside.meta_optimizer_iterations == rc.RewriterConfig.ONE
        assert inside.memory_optimization == rc.RewriterConfig.NO_MEM_OPT
        assert inside.layout_optimizer == rc.RewriterConfig.OFF and inside.disable_tfg_optimizer
        # The optimizers that rewrite the arithmetic keep their default.
        for name in ("arithmetic_optimization", "remapping", "constant_folding"):
            assert getattr(inside, name) == getattr(before, name)
    assert _rewrite_options() == before


def test_a_session_gets_the_same_options():
    config = one_run_config()
    assert config.graph_options.rewrite_options.disable_tfg_optimizer
    assert one_run_config(config) is config


MODEL = '''
import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(3)
model = keras.Sequential([
    keras.Input((8, 8, 3)),
    keras.layers.Conv2D(4, 3, activation="relu"),
    keras.layers.BatchNormalization(),
    keras.layers.Conv2D(4, 3),
    keras.layers.GlobalAveragePooling2D(),
    keras.layers.Dense(2),
])
x = np.random.default_rng(0).standard_normal((4, 8, 8, 3)).astype("float32")


@tf.function
def loss(x):
    logits = model(x, training=True)
    return tf.reduce_mean(tf.math.log(tf.nn.softmax(logits) + 1e-3)) + tf.reduce_sum(tf.square(logits))


example_inputs = (x,)
'''


def test_gradients_equal_those_of_a_training_step(tmp_path):
    """The norms gradflow reports are those of the gradients a tf.function step computes
    with TensorFlow's default optimizer options (run after gradflow, in the same process)."""
    namespace: dict = {}
    exec(compile(MODEL, str(tmp_path / "conv_bn.py"), "exec"), namespace)
    model, loss, x = namespace["model"], namespace["loss"], namespace["x"]
    report = gradflow.inspect(loss, x, strict=True)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            value = loss(x)
        return tape.gradient(value, model.trainable_variables)

    norms = {v.name: v.grad_norm for v in report.variables if v.trainable}
    assert len(norms) == len(model.trainable_variables) == 8
    for var, grad in zip(model.trainable_variables, step(x)):
        expected = float(np.sqrt(np.sum(np.square(np.abs(grad.numpy()).astype(np.float64)))))
        assert expected > 0
        assert norms[var.path] == pytest.approx(expected, rel=1e-6), var.path
