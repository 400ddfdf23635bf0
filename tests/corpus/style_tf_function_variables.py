# Exercises: the plainest style -- module-level tf.Variables and a @tf.function
# `loss`. Every variable flows.
import tensorflow as tf

w = tf.Variable([[0.5], [-0.3], [0.2]], name="w")
b = tf.Variable([0.1], name="b")

example_inputs = (tf.constant([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]),
                  tf.constant([[1.0], [0.0]]))


@tf.function
def loss(x, y):
    pred = tf.matmul(x, w) + b
    return tf.reduce_mean(tf.square(pred - y))
