# Zoo: keras.applications.Xception at 71x71 (its minimum; separable
# convolutions, residual entry/middle/exit flows) in training mode under a
# `loss` tf.function.
import tensorflow as tf

from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("Xception")
example_inputs = image_batch("Xception")


@tf.function
def loss(x, y):
    return sparse_ce(y, model(x, training=True))
