# Exercises: a NaN/Inf gradient -- tf.sqrt at 0 has an infinite derivative.
# `radius` (initialised to zeros) is `nonfinite`; `offset` flows.
import tensorflow as tf

radius = tf.Variable([0.0, 0.0], name="radius")
offset = tf.Variable([1.0, 2.0], name="offset")


@tf.function
def loss():
    return tf.reduce_sum(tf.sqrt(radius) + offset * offset)
