# Exercises: a plain (undecorated) Python function as the target; the tool
# must trace it itself. w flows, v is blocked by tf.stop_gradient.
import tensorflow as tf

w = tf.Variable([1.0, 2.0], name="w")
v = tf.Variable([0.5, -0.5], name="v")

example_inputs = (tf.constant([3.0, 4.0]),)


def loss_fn(x):
    return tf.reduce_sum(w * x) + tf.reduce_sum(tf.stop_gradient(v) * x)
