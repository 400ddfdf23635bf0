# Exercises: a compiled Keras 3 functional model with two branches merged by
# a Concatenate; one branch passes through keras.ops.stop_gradient, so its
# Dense weights are blocked.
import keras
import numpy as np
from keras import layers, ops

keras.utils.set_random_seed(0)

inp = keras.Input(shape=(3,))
a = layers.Dense(2, name="branch_a")(inp)
b = layers.Dense(2, name="branch_b")(inp)
b = layers.Lambda(lambda t: ops.stop_gradient(t), name="freeze")(b)
out = layers.Dense(1, name="head")(layers.Concatenate()([a, b]))
model = keras.Model(inp, out, name="functional")
model.compile(optimizer="sgd", loss="mse")

rng = np.random.default_rng(1)
example_inputs = (rng.standard_normal((4, 3)).astype("float32"),
                  rng.standard_normal((4, 1)).astype("float32"))
