# Exercises: tf.py_function is differentiable, but not through an integer
# output: `counted` only reaches the loss through a py_function returning
# int32 (blocked); `smooth` flows through a float py_function.
import tensorflow as tf

counted = tf.Variable([0.5, 1.5, 2.5], name="counted")
smooth = tf.Variable([1.0, 2.0], name="smooth")


def _count_positive(t):
    return tf.reduce_sum(tf.cast(t > 1.0, tf.int32))


def _double(t):
    return 2.0 * t


@tf.function
def loss():
    n = tf.py_function(_count_positive, [counted], tf.int32)
    d = tf.py_function(_double, [smooth], tf.float32)
    return tf.cast(n, tf.float32) + tf.reduce_sum(d)
