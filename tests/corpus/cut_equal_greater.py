# Exercises: comparisons (tf.equal, tf.greater, tf.less) have no gradient.
# `a` and `b` only feed comparisons (blocked); `scale` flows.
import tensorflow as tf

a = tf.Variable([1.0, 2.0, 3.0], name="a")
b = tf.Variable([1.0, 0.0, 5.0], name="b")
scale = tf.Variable(2.0, name="scale")


@tf.function
def loss():
    eq = tf.cast(tf.equal(a, b), tf.float32)
    gt = tf.cast(tf.greater(a, b), tf.float32)
    lt = tf.cast(tf.math.less(a, 2.5), tf.float32)
    return scale * tf.reduce_sum(eq + gt + lt)
