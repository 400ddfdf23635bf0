"""Mistake: a target network, but tf.stop_gradient on the wrong side.

The online network should learn and the target stay frozen; the stop_gradient
wraps the online prediction instead, so the online weights are blocked and the
target weights learn. gradflow cannot know the intent: it marks the blocked
online weights "frozen on purpose" and its fix asks "intended?".
"""
import tensorflow as tf

x = tf.random.stateless_normal([8, 4], seed=[12, 0])
online = tf.Variable(tf.random.stateless_normal([4, 1], seed=[13, 0]), name="online")
target = tf.Variable(tf.random.stateless_normal([4, 1], seed=[14, 0]), name="target")


def loss():
    prediction = tf.stop_gradient(x @ online)  # the mistake: meant tf.stop_gradient(x @ target)
    return tf.reduce_mean(tf.square(prediction - x @ target))
