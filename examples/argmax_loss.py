"""Classic mistake: the loss reads an argmax, so the classifier's weights get no gradient.

gradflow names the ArgMax op and this file's line as the cut.
"""
import tensorflow as tf

x = tf.random.stateless_normal([16, 4], seed=[5, 0])
labels = tf.constant([0, 1, 2] * 5 + [0])
w = tf.Variable(tf.random.stateless_normal([4, 3], seed=[6, 0]), name="w")
b = tf.Variable(tf.zeros([3]), name="b")

@tf.function
def loss(x, labels):
    predicted = tf.argmax(x @ w + b, axis=1)  # a hard decision: no gradient
    return tf.reduce_mean(tf.cast(tf.not_equal(predicted, tf.cast(labels, tf.int64)), tf.float32))

example_inputs = (x, labels)
