"""Mistake: a tf.custom_gradient whose grad_fn returns None for its input.

Fix: return a tensor for every input (the straight-through `dy`, say).
"""
import tensorflow as tf

x = tf.random.stateless_normal([8, 3], seed=[10, 0])
w = tf.Variable(tf.random.stateless_normal([3, 1], seed=[11, 0]), name="w")


@tf.custom_gradient
def clip(t):
    def grad_fn(dy):
        return None  # the mistake: should be dy (or dy masked)
    return tf.clip_by_value(t, -1.0, 1.0), grad_fn


def loss():
    return tf.reduce_mean(tf.square(clip(x @ w)))
