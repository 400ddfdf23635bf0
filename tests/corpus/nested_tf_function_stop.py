# Exercises: a nested tf.function call (a PartitionedCall op in the outer
# graph) whose inner function holds a tf.stop_gradient. `inner_w` is captured
# by the inner function and stopped there (blocked); `arg_w` is passed as an
# argument and flows; `outer_w` is used only in the outer function (flows).
import tensorflow as tf

inner_w = tf.Variable([1.0, 2.0], name="inner_w")
arg_w = tf.Variable([0.5, 0.5], name="arg_w")
outer_w = tf.Variable([3.0, 1.0], name="outer_w")


@tf.function
def featurize(t):
    return t * tf.stop_gradient(inner_w) + t


@tf.function
def loss():
    return tf.reduce_sum(featurize(arg_w * 2.0) * outer_w)
