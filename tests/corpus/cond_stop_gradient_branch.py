# Exercises: tf.cond (traced: an If op) with tf.stop_gradient in one branch.
# The predicate depends on the input and is True for the example, so the
# TRUE branch (which stops `sv`) is taken. Because the untaken branch uses
# `sv` without a cut, the traced cond's gradient for `sv` is a tensor of
# zeros (zero), not None. `ok` is used in both branches without a cut (flows).
import tensorflow as tf

sv = tf.Variable([1.0, 2.0], name="sv")
ok = tf.Variable([0.5, 0.5], name="ok")

example_inputs = (tf.constant([1.0, 1.0]),)


@tf.function
def loss(x):
    out = tf.cond(tf.reduce_sum(x) > 0.0,
                  lambda: tf.stop_gradient(sv) * x + ok,
                  lambda: sv * x - ok)
    return tf.reduce_sum(out)
