"""Mistake: a step computed in NumPy through tf.numpy_function, which has no gradient.

Fix: write it with TensorFlow ops (here tf.tanh), or use tf.py_function.
"""
import numpy as np
import tensorflow as tf

x = tf.random.stateless_normal([8, 3], seed=[4, 0])
w = tf.Variable(tf.random.stateless_normal([3, 1], seed=[5, 0]), name="w")


def loss():
    h = tf.numpy_function(np.tanh, [x @ w], tf.float32)  # the mistake
    return tf.reduce_mean(tf.square(h))
