"""Classic mistake: rounding through an integer cast kills the gradient.

gradflow names the Cast op ("cast to int32 is not differentiable") and its line;
the straight-through estimator `s + tf.stop_gradient(tf.round(s) - s)` would keep it.
"""
import tensorflow as tf

x = tf.random.stateless_normal([8, 3], seed=[7, 0])
scale = tf.Variable(2.0, name="scale")
w = tf.Variable(tf.random.stateless_normal([3, 1], seed=[8, 0]), name="w")

@tf.function
def loss(x):
    levels = tf.cast(tf.cast(x * scale, tf.int32), tf.float32)  # quantise: no gradient for scale
    return tf.reduce_mean(tf.square(levels @ w))

example_inputs = (x,)
