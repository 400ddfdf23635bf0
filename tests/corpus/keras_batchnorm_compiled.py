# Exercises: a compiled Keras 3 functional model with BatchNormalization and
# Dropout (compiled-model target, training=True). Trainable weights flow;
# BN moving statistics get no gradient; a frozen layer (trainable=False) is
# still connected, so TF gives it a gradient when watched.
import keras
import numpy as np
from keras import layers

keras.utils.set_random_seed(0)

inp = keras.Input((3,))
h = layers.Dense(4, name="frozen_dense", trainable=False)(inp)
h = layers.BatchNormalization(name="bn")(h)
h = layers.Dropout(0.5, seed=3, name="drop")(h)
out = layers.Dense(1, name="out")(h)
model = keras.Model(inp, out, name="bn_model")
model.compile(optimizer="adam", loss="mse")

rng = np.random.default_rng(7)
example_inputs = (rng.standard_normal((6, 3)).astype("float32"),
                  rng.standard_normal((6, 1)).astype("float32"))
