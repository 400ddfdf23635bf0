# Exercises: tf.cast float -> int32 -> float cuts the gradient (Cast has no
# gradient through a non-float dtype). `c` is blocked; `d` flows through a
# float32 -> float64 -> float32 cast (which keeps the gradient).
import tensorflow as tf

c = tf.Variable([1.7, 2.2], name="c")
d = tf.Variable([0.5, -0.5], name="d")


@tf.function
def loss():
    c_int = tf.cast(c, tf.int32)
    d64 = tf.cast(d, tf.float64)
    return tf.reduce_sum(tf.cast(c_int, tf.float32)) + tf.reduce_sum(tf.cast(d64 * d64, tf.float32))
