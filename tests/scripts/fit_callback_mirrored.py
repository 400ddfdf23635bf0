"""model.fit under MirroredStrategy (two logical CPUs) with GradflowCallback(every=2).

Prints one JSON line: the callback's statuses, TensorFlow's own None flags for
the same loss, the batches re-checked and the layers whose norms were recorded.
"""
import json

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402

import gradflow  # noqa: E402

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(4, activation="tanh", name="hidden")(inputs)
    out = keras.layers.Dense(1, name="out")(hidden)
    side = keras.layers.Dense(1, name="side")(hidden)
    model = keras.Model(inputs, [out, side])
    model.compile(optimizer="sgd", loss=["mse", None])
rng = np.random.default_rng(0)
x, y = rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")
with tf.GradientTape() as tape:
    loss = tf.reduce_mean(tf.square(model(x[:4])[0] - y[:4]))
tf_none = [g is None for g in tape.gradient(loss, model.trainable_variables)]
callback = gradflow.keras.GradflowCallback(every=2, show=False)
model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[callback])
report = callback.reports[0].report
print(json.dumps({"statuses": [v.status.value for v in report.variables], "tf_none": tf_none,
                  "numeric": report.numeric, "checks": sorted(callback.checks),
                  "layers": sorted(name.rsplit("/", 1)[-1] for name in callback.norms[0])}))
