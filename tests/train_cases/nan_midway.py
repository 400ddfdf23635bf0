# A gradient that turns NaN in the middle of training: SGD on sqrt(r) drives
# r towards 0 in ever larger steps until it jumps below zero, where sqrt (and
# its gradient) is NaN. `b` learns on its own term and stays finite.
import tensorflow as tf

r = tf.Variable(1.0, name="r")
b = tf.Variable([0.0, 3.0], name="b")


@tf.function
def loss():
    return tf.sqrt(r) + tf.reduce_sum(tf.square(b - 1.0))
