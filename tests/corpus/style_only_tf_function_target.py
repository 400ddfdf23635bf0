# Exercises: target rule 3 -- no loss/loss_fn/compute_loss attribute, exactly
# one module-level tf.function (`objective`). A plain helper function does not
# count. k flows; `offset` is read only via tf.size/tf.shape (blocked).
import tensorflow as tf

k = tf.Variable([2.0, -1.0, 0.5], name="k")
offset = tf.Variable([[1.0, 2.0], [3.0, 4.0]], name="offset")


def helper(t):
    return t * 2.0


@tf.function
def objective():
    n = tf.cast(tf.size(offset), tf.float32) + tf.cast(tf.shape(offset)[0], tf.float32)
    return tf.reduce_sum(helper(k) ** 2) + n
