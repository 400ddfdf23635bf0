# Exercises: dependence through tf.shape / tf.size only. The tf.function has
# an input_signature with an unknown batch dim, so Shape/Size are real ops
# (not folded to constants). `proj` reaches the loss only via the shape and
# size of its product (blocked); `w` flows.
import tensorflow as tf

proj = tf.Variable([[1.0, 0.0], [0.0, 1.0]], name="proj")
w = tf.Variable([[0.5], [0.25]], name="w")

example_inputs = (tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),)


@tf.function(input_signature=[tf.TensorSpec([None, 2], tf.float32)])
def loss(x):
    h = tf.matmul(x, proj)
    n = tf.cast(tf.shape(h)[0], tf.float32) + tf.cast(tf.size(h), tf.float32)
    return tf.reduce_sum(tf.matmul(x, w)) / n
