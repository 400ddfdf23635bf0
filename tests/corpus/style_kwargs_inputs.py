# Exercises: example_inputs given as a dict of keyword arguments.
# w flows, b flows, `t` is only compared with tf.greater / tf.equal (blocked).
import tensorflow as tf

w = tf.Variable([0.1, 0.2, 0.3], name="w")
b = tf.Variable(0.5, name="b")
t = tf.Variable([0.15, 0.2, 0.9], name="t")

example_inputs = {"features": tf.constant([1.0, 2.0, 3.0]), "target": tf.constant(1.0)}


@tf.function
def loss(features, target):
    hits = tf.cast(tf.greater(w, t), tf.float32) + tf.cast(tf.equal(t, 0.2), tf.float32)
    pred = tf.reduce_sum(w * features) + b + tf.reduce_sum(hits)
    return tf.square(pred - target)
