# The second batch does not fit the model (3 features instead of 2): the
# training step fails at step 2, and gradflow says so (exit 2).
import tensorflow as tf

w = tf.Variable([[0.5], [-0.5]], name="w")


@tf.function
def loss(x):
    return tf.reduce_mean(tf.square(x @ w))


example_batches = [tf.ones([4, 2]), tf.ones([4, 3])]
