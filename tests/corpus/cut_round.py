# Exercises: tf.round's registered gradient is None. `r` is blocked; `s`
# flows alongside.
import tensorflow as tf

r = tf.Variable([0.4, 1.6], name="r")
s = tf.Variable([2.0, 3.0], name="s")


@tf.function
def loss():
    return tf.reduce_sum(tf.round(r * 2.0) * s)
