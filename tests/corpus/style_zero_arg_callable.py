# Exercises: a zero-argument plain Python callable with no example_inputs.
# p flows; r flows through tf.abs; z is multiplied by 0.0 (zero gradient).
import tensorflow as tf

p = tf.Variable([1.0, -2.0], name="p")
r = tf.Variable([-3.0], name="r")
z = tf.Variable([4.0, 5.0], name="z")


def loss():
    return tf.reduce_sum(p ** 2) + tf.reduce_sum(tf.abs(r)) + 0.0 * tf.reduce_sum(z)
