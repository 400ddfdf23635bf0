"""The canonical example: one tf.stop_gradient shields w2 and w3, while w1 learns.

Training moves w1 until it equals w2 * w3; w2 and w3 never move.
"""
import tensorflow as tf

x = tf.random.stateless_normal([8, 5], seed=[1, 0])
w1 = tf.Variable(tf.random.stateless_normal([5, 1], seed=[2, 0]), name="w1")
w2 = tf.Variable(tf.random.stateless_normal([5, 1], seed=[3, 0]), name="w2")
w3 = tf.Variable(tf.random.stateless_normal([5, 1], seed=[4, 0]), name="w3")

@tf.function
def loss(x):
    return tf.reduce_mean(tf.square(x @ w1 - tf.stop_gradient(x @ (w2 * w3))))

example_inputs = (x,)
# `gradflow train` draws this beside the variables: w1 converges onto it.
train_watch = {"w2 * w3": lambda: w2 * w3}
