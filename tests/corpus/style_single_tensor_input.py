# Exercises: example_inputs given as a single tensor (one positional arg), and
# a non-scalar loss (TensorFlow sums it). v flows.
import tensorflow as tf

v = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="v")
example_inputs = tf.constant([[0.5, -0.5], [1.0, 2.0]])


@tf.function
def loss(x):
    return tf.square(v * x)  # non-scalar: autodiff sums it
