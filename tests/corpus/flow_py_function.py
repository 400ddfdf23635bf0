# Exercises: tf.py_function DOES have a gradient (EagerPyFunc is
# differentiable). `u` flows through the py_function.
import tensorflow as tf

u = tf.Variable([1.0, -2.0, 0.5], name="u")


def _eager_cube(t):
    return t * t * t


@tf.function
def loss():
    out = tf.py_function(_eager_cube, [u], tf.float32)
    return tf.reduce_sum(out)
