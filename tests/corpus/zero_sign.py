# Exercises: tf.sign has a gradient, but it is all zeros: `s` is `zero`,
# not blocked. `m` flows.
import tensorflow as tf

s = tf.Variable([0.7, -1.2, 3.0], name="s")
m = tf.Variable([1.0, 1.0, 1.0], name="m")

example_inputs = (tf.constant([2.0, 3.0, 4.0]),)


@tf.function
def loss(x):
    return tf.reduce_sum(tf.sign(s) * m * x)
