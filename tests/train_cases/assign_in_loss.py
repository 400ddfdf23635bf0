# A TF2 loss that decays `shadow` by hand (an assign inside the step, as
# some training loops do for an EMA or weight decay). The loss reads
# `shadow` only through tf.stop_gradient, so inspect calls it blocked; it
# moves anyway, written by the assign.
import tensorflow as tf

w = tf.Variable([[0.1], [0.2]], name="w")
shadow = tf.Variable([[1.0], [-1.0]], name="shadow")


@tf.function
def loss(x):
    shadow.assign(shadow * 0.98)
    return tf.reduce_mean(tf.square(x @ w - tf.stop_gradient(x @ shadow)))


example_inputs = (tf.constant([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),)
