"""Mistake: minimising the error rate through tf.argmax. ArgMax has no gradient.

Fix: minimise a soft surrogate (softmax cross-entropy) instead.
"""
import tensorflow as tf

x = tf.random.stateless_normal([8, 4], seed=[1, 0])
y = tf.constant([0, 1, 2, 1] * 2, dtype=tf.int64)
w = tf.Variable(tf.random.stateless_normal([4, 3], seed=[2, 0]), name="w")


def loss():
    predicted = tf.argmax(x @ w, axis=1)  # the mistake: no gradient past here
    return tf.reduce_mean(tf.cast(tf.not_equal(predicted, y), tf.float32))
