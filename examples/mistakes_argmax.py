"""A classic mistake: a loss built from tf.argmax, which has no gradient.

The error rate is what we care about, so it is tempting to minimise it
directly. But ArgMax (and the integer comparison after it) passes no gradient
back: the hidden layer gets none at all, and the output kernel learns only from
the weight decay added at the end.

    gradflow inspect examples/mistakes_argmax.py --svg mistake.svg

The fix: minimise a differentiable surrogate, e.g.
tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits).
"""
import tensorflow as tf

x = tf.random.stateless_normal([16, 4], seed=[1, 0])
y = tf.constant([0, 1, 2, 1] * 4, dtype=tf.int64)

hidden_kernel = tf.Variable(tf.random.stateless_normal([4, 8], seed=[2, 0]), name="hidden/kernel")
hidden_bias = tf.Variable(tf.zeros([8]), name="hidden/bias")
out_kernel = tf.Variable(tf.random.stateless_normal([8, 3], seed=[3, 0]), name="out/kernel")


@tf.function
def loss(x, y):
    h = tf.nn.relu(x @ hidden_kernel + hidden_bias)
    logits = h @ out_kernel
    predicted = tf.argmax(logits, axis=1)  # the mistake: no gradient past this line
    error_rate = tf.reduce_mean(tf.cast(tf.not_equal(predicted, y), tf.float32))
    return error_rate + 1e-3 * tf.nn.l2_loss(out_kernel)


example_inputs = (x, y)
