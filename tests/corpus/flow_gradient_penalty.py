# Exercises: second-order autodiff inside the loss (a WGAN-GP style gradient
# penalty computed with an inner tf.GradientTape). The loss graph holds
# gradient ops (e.g. TanhGrad). `critic_w` flows through both the value and
# the penalty; `critic_b` only shifts the critic's pre-activation (flows via
# the tanh derivative); `sg_w` is under stop_gradient (blocked).
import tensorflow as tf

critic_w = tf.Variable([[0.5], [-0.25]], name="critic_w")
critic_b = tf.Variable([0.1], name="critic_b")
sg_w = tf.Variable([[1.0], [1.0]], name="sg_w")

example_inputs = (tf.constant([[1.0, 2.0], [0.5, -0.5]]),)


@tf.function
def loss(x):
    with tf.GradientTape() as inner:
        inner.watch(x)
        score = tf.reduce_sum(tf.tanh(tf.matmul(x, critic_w) + critic_b))
    gx = inner.gradient(score, x)
    penalty = tf.reduce_mean(tf.square(tf.norm(gx, axis=1) - 1.0))
    return score + 10.0 * penalty + tf.reduce_sum(tf.stop_gradient(sg_w))
