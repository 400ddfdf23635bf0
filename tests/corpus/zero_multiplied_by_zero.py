# Exercises: gradients that exist but vanish numerically: a variable
# multiplied by a zero input (`gain` -> zero), tf.maximum against a larger
# constant so the variable never wins (`low` -> zero); `w` flows.
import tensorflow as tf

gain = tf.Variable([2.0, 3.0], name="gain")
low = tf.Variable([-5.0, -6.0], name="low")
w = tf.Variable([1.0, 1.0], name="w")

example_inputs = (tf.constant([0.0, 0.0]), tf.constant([1.0, 2.0]))


@tf.function
def loss(zeros, x):
    return tf.reduce_sum(gain * zeros) + tf.reduce_sum(tf.maximum(low, 10.0)) + tf.reduce_sum(w * x)
