"""Mistake: quantising with tf.round; its gradient is None.

Fix: the straight-through estimator x + tf.stop_gradient(tf.round(x) - x).
"""
import tensorflow as tf

x = tf.random.stateless_normal([8, 3], seed=[3, 0])
scale = tf.Variable(4.0, name="scale")


def loss():
    q = tf.round(x * scale)  # the mistake
    return tf.reduce_mean(tf.square(q - x))
