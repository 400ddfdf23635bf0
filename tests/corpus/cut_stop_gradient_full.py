# Exercises: tf.stop_gradient fully shielding two variables (w2, w3) while w1
# flows -- the shape of the example in CONTRACT.md.
import tensorflow as tf

tf.random.set_seed(0)
w1 = tf.Variable(tf.random.normal([5, 1], seed=1), name="w1")
w2 = tf.Variable(tf.random.normal([5, 1], seed=2), name="w2")
w3 = tf.Variable(tf.random.normal([5, 1], seed=3), name="w3")

example_inputs = (tf.ones([3, 5]),)


@tf.function
def loss(x):
    shielded = tf.stop_gradient(tf.matmul(x, w2) * tf.reduce_sum(w3))
    return tf.reduce_sum(tf.matmul(x, w1) + shielded)
