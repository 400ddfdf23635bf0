# Batches from a generator (no example_inputs): x = 0, 2, 0, 2, ...
# The first batch stands in for the example inputs of the static check.
import tensorflow as tf

w = tf.Variable(0.5, name="w")


def loss(x):
    return tf.square(w - x)


def _batches():
    yield (tf.constant(0.0),)
    yield (tf.constant(2.0),)


example_batches = _batches()
