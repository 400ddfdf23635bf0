"""Not a mistake: BatchNormalization's moving statistics get no gradient, by design.

They are non-trainable (updated by assignment in training mode): `expected`.
"""
import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="dense"),
                          keras.layers.BatchNormalization(name="bn")])
x = np.random.default_rng(0).standard_normal((8, 4)).astype("float32")


def loss(x):
    return tf.reduce_mean(tf.square(model(x, training=True)))


example_inputs = (x,)
