"""Mistake: quantising through an integer cast.

Fix: keep it float with a straight-through estimator.
"""
import tensorflow as tf

x = tf.random.stateless_normal([8, 3], seed=[7, 0])
scale = tf.Variable(2.0, name="scale")


def loss():
    levels = tf.cast(x * scale, tf.int32)  # the mistake
    return tf.reduce_mean(tf.square(tf.cast(levels, tf.float32)))
