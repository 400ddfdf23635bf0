# Exercises: a gradient-reversal layer (custom gradient returning -dy): the
# gradient exists and is non-zero, so `feat` and `cls` both flow.
import tensorflow as tf

feat = tf.Variable([[0.5, -0.5], [1.0, 0.25]], name="feat")
cls = tf.Variable([[1.0], [-1.0]], name="cls")

example_inputs = (tf.constant([[1.0, 2.0]]),)


@tf.custom_gradient
def reverse_grad(t):
    def grad(dy):
        return -dy
    return tf.identity(t), grad


@tf.function
def loss(x):
    h = reverse_grad(tf.matmul(x, feat))
    return tf.reduce_sum(tf.matmul(h, cls))
