# Exercises: tf.cast to bool (and back to float) cuts the gradient.
# `mask_w` is blocked; `vals` flows.
import tensorflow as tf

mask_w = tf.Variable([0.0, 2.0, -1.0, 0.0], name="mask_w")
vals = tf.Variable([1.0, 2.0, 3.0, 4.0], name="vals")


@tf.function
def loss():
    mask = tf.cast(tf.cast(mask_w, tf.bool), tf.float32)
    return tf.reduce_sum(mask * vals)
