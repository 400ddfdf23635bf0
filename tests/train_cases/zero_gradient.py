# `dead` only reaches the loss through a ReLU that is off (negative input):
# its gradient is all zero, so SGD leaves it frozen. `w` learns.
import tensorflow as tf

w = tf.Variable([0.5, -0.5], name="w")
dead = tf.Variable([-2.0, -3.0], name="dead")


def loss(x):
    return tf.reduce_mean(tf.square(x * w - 1.0)) + tf.reduce_sum(tf.nn.relu(dead))


example_inputs = (tf.constant([1.0, 2.0]),)
