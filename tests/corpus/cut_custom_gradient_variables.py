# Exercises: a tf.custom_gradient function that reads a variable inside its
# body (so its grad_fn takes `variables=`) and returns None as that
# variable's gradient. `inner` is blocked; `outer` flows (passed as input).
import tensorflow as tf

inner = tf.Variable([0.5, 0.5], name="inner")
outer = tf.Variable([2.0, 1.0], name="outer")


@tf.custom_gradient
def scaled(t):
    out = t * inner

    def grad(dy, variables=None):
        return dy * inner, [None for _ in variables]

    return out, grad


@tf.function
def loss():
    return tf.reduce_sum(scaled(outer * 1.0))
