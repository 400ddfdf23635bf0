# Exercises: connected but numerically dead gradients from ordinary ops:
# tf.clip_by_value with every element outside the range (`clipped` -> zero);
# tf.tensor_scatter_nd_update that overwrites every element of `overwritten`
# (-> zero) while `updates_w` provides the new values (flows).
import tensorflow as tf

clipped = tf.Variable([5.0, -7.0, 9.0], name="clipped")
overwritten = tf.Variable([1.0, 2.0], name="overwritten")
updates_w = tf.Variable([3.0, 4.0], name="updates_w")


@tf.function
def loss():
    c = tf.clip_by_value(clipped, -1.0, 1.0)
    s = tf.tensor_scatter_nd_update(overwritten, [[0], [1]], updates_w)
    return tf.reduce_sum(c) + tf.reduce_sum(s * s)
