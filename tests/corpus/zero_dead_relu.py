# Exercises: a dead ReLU -- every pre-activation is negative on the example
# inputs, so the gradient exists but is all zeros: `w_in` and `b_in` are
# `zero`; `w_out` also gets zeros (multiplied by relu output 0); `b_out` flows.
import tensorflow as tf

w_in = tf.Variable([[0.1, 0.2], [0.3, 0.4]], name="w_in")
b_in = tf.Variable([-100.0, -100.0], name="b_in")
w_out = tf.Variable([[1.0], [1.0]], name="w_out")
b_out = tf.Variable([0.5], name="b_out")

example_inputs = (tf.constant([[1.0, 2.0], [0.5, -1.0]]), tf.constant([[1.0], [1.0]]))


@tf.function
def loss(x, y):
    h = tf.nn.relu(tf.matmul(x, w_in) + b_in)
    return tf.reduce_mean(tf.square(tf.matmul(h, w_out) + b_out - y))
