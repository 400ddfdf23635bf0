# Exercises: tf.floor's registered gradient is None (also tf.math.floordiv
# via floor). `f` is blocked; `g` flows.
import tensorflow as tf

f = tf.Variable([1.5, -0.5, 2.25], name="f")
g = tf.Variable([0.5, 0.5, 0.5], name="g")

example_inputs = (tf.constant([1.0, 2.0, 3.0]),)


def loss(x):
    return tf.reduce_sum(tf.floor(f) * x + g * x)
