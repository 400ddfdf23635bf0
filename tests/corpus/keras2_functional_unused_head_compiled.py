# Exercises: a Keras 2 (tf_keras) functional model compiled with a loss for its first
# output only; the `aux` head is computed but never reaches the loss. The
# compiled loss's metric trackers (`total`, `count`) are variables of the model too.
import numpy as np
import tf_keras as keras
import tensorflow as tf
tf.random.set_seed(0)
inp = keras.Input((4,))
h = keras.layers.Dense(8, activation="relu", name="hidden")(inp)
out = keras.layers.Dense(1, name="out")(h)
aux = keras.layers.Dense(1, name="aux")(h)
model = keras.Model(inp, [out, aux])
model.compile(optimizer="sgd", loss=["mse", None])
rng = np.random.default_rng(0)
example_inputs = (rng.standard_normal((4, 4)).astype("float32"), rng.standard_normal((4, 1)).astype("float32"))
