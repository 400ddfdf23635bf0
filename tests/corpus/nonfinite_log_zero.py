# Exercises: log(0) in the forward pass -> Inf/NaN gradients. `p` holds a zero
# probability, so the cross-entropy gradient w.r.t. `p` is non-finite; `t`
# flows on a separate finite term.
import tensorflow as tf

p = tf.Variable([0.0, 0.5, 0.5], name="p")
t = tf.Variable(1.5, name="t")

example_inputs = (tf.constant([1.0, 0.0, 0.0]),)


def loss(labels):
    return -tf.reduce_sum(labels * tf.math.log(p)) + t * t
