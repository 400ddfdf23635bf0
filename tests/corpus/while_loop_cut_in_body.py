# Exercises: tf.while_loop (traced: a While op) with a cut inside the body.
# `decay` flows through the loop carry. `bias` is added under
# tf.stop_gradient in the body and `quant` goes through tf.round in the body:
# every path from them is cut, yet TensorFlow's while_v2 gradient gives
# loop-captured inputs a tensor of zeros rather than None, so their verdict is
# `zero`, not blocked.
import tensorflow as tf

decay = tf.Variable(0.9, name="decay")
bias = tf.Variable(0.1, name="bias")
quant = tf.Variable(1.4, name="quant")

example_inputs = (tf.constant(2.0),)


@tf.function
def loss(x):
    def body(i, h):
        return i + 1, h * decay + tf.stop_gradient(bias) + tf.round(quant)

    _, out = tf.while_loop(lambda i, h: i < 4, body, (tf.constant(0), x))
    return tf.square(out)
