# Exercises: a tf.Module whose __call__ is itself a tf.function method.
# a flows; b only reaches the loss through tf.argmax (blocked).
import tensorflow as tf


class Scorer(tf.Module):
    def __init__(self):
        super().__init__()
        self.a = tf.Variable([1.0, -2.0, 0.5], name="a")
        self.b = tf.Variable([0.3, 0.1, 0.9], name="b")

    @tf.function
    def __call__(self, x):
        idx = tf.argmax(self.b)
        return tf.reduce_sum(self.a * x) * tf.cast(idx + 1, tf.float32)


compute_loss = Scorer()
example_inputs = tf.constant([1.0, 2.0, 3.0])
