# Exercises: ops with gradients on some outputs only. tf.math.top_k VALUES
# have a gradient (`vals` flows), its INDICES do not (`ranker` feeds only the
# indices: blocked); tf.argsort has no gradient (`order_src` blocked);
# tf.sort values flow (`sorted_src`).
import tensorflow as tf

vals = tf.Variable([0.3, 0.9, 0.1, 0.5], name="vals")
ranker = tf.Variable([4.0, 1.0, 3.0, 2.0], name="ranker")
order_src = tf.Variable([0.2, 0.1, 0.4, 0.3], name="order_src")
sorted_src = tf.Variable([3.0, 1.0, 2.0, 0.5], name="sorted_src")

example_inputs = (tf.constant([1.0, 2.0, 3.0, 4.0]),)


@tf.function
def loss(x):
    top_vals, _ = tf.math.top_k(vals, k=2)
    _, top_idx = tf.math.top_k(ranker, k=2)
    order = tf.argsort(order_src)
    return (tf.reduce_sum(top_vals)
            + tf.reduce_sum(tf.gather(x, top_idx))
            + tf.reduce_sum(tf.gather(x, order) * tf.sort(sorted_src)))
