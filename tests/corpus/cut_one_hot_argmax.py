# Exercises: tf.one_hot(tf.argmax(...)) -- a hard selection mask built from a
# variable's scores. `scores` is blocked; `values` flows through the mask.
import tensorflow as tf

scores = tf.Variable([[0.2, 0.5, 0.3], [0.9, 0.05, 0.05]], name="scores")
values = tf.Variable([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], name="values")


@tf.function
def loss():
    mask = tf.one_hot(tf.argmax(scores, axis=-1), depth=3)
    return tf.reduce_sum(mask * values)
