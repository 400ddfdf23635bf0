# Exercises: BatchNormalization in training mode and Dropout inside a loss
# function (training=True). gamma/beta and the Dense kernels flow; the
# moving_mean / moving_variance are read and updated but never reach the loss
# (no gradient); the Dropout seed-generator state is an integer variable.
import keras
import numpy as np
import tensorflow as tf
from keras import layers

keras.utils.set_random_seed(0)

model = keras.Sequential([
    keras.Input((4,)),
    layers.Dense(6, name="d1"),
    layers.BatchNormalization(name="bn"),
    layers.Dropout(0.25, seed=1, name="drop"),
    layers.Dense(1, name="d2"),
], name="bn_net")

rng = np.random.default_rng(6)
example_inputs = (tf.constant(rng.standard_normal((8, 4)).astype("float32")),
                  tf.constant(rng.standard_normal((8, 1)).astype("float32")))


@tf.function
def loss_fn(x, y):
    return tf.reduce_mean(tf.square(model(x, training=True) - y))
