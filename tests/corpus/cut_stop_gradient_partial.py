# Exercises: a partial cut -- the straight-through estimator
# x + tf.stop_gradient(tf.round(x) - x): `q` flows (one path is cut, the
# identity path survives). `h` reaches the loss only via the stopped term
# (blocked).
import tensorflow as tf

q = tf.Variable([0.3, 1.6, -0.7], name="q")
h = tf.Variable([0.2, 0.2, 0.2], name="h")

example_inputs = (tf.constant([1.0, 2.0, 3.0]),)


@tf.function
def loss(x):
    ste = q + tf.stop_gradient(tf.round(q) - q + h)
    return tf.reduce_sum(ste * x)
