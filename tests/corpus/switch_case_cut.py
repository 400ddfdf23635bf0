# Exercises: tf.switch_case (traced: a Case op). Branch 1 is taken for the
# example. `k1` is used in branch 1 (flows); `k0` only in branch 0 (not
# taken: zero gradient tensor); `k2` only under tf.floor in branch 2 and
# under stop_gradient in branch 1 (blocked).
import tensorflow as tf

k0 = tf.Variable([1.0, 1.0], name="k0")
k1 = tf.Variable([2.0, 2.0], name="k1")
k2 = tf.Variable([3.5, 3.5], name="k2")

example_inputs = (tf.constant(1), tf.constant([1.0, 2.0]))


@tf.function
def loss(branch, x):
    out = tf.switch_case(branch, [
        lambda: k0 * x,
        lambda: k1 * x + tf.stop_gradient(k2),
        lambda: tf.floor(k2) * x,
    ])
    return tf.reduce_sum(out)
