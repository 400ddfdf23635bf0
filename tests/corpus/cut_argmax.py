# Exercises: tf.argmax has no gradient. `logits_w` feeds the loss only through
# the argmax index used in tf.gather (blocked); `table` flows through the
# gather (IndexedSlices gradient).
import tensorflow as tf

logits_w = tf.Variable([[0.1, 0.9, 0.3], [0.8, 0.1, 0.2]], name="logits_w")
table = tf.Variable([1.0, 2.0, 3.0], name="table")

example_inputs = (tf.constant([[1.0, 2.0]]),)


@tf.function
def loss(x):
    idx = tf.argmax(tf.matmul(x, logits_w), axis=-1)
    return tf.reduce_sum(tf.gather(table, idx))
