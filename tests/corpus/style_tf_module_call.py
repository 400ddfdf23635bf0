# Exercises: a tf.Module instance with __call__ as the target (`loss_fn`).
# dense.w flows; `scale` is only read through tf.round (blocked);
# `unused` is never read (disconnected).
import tensorflow as tf


class Regressor(tf.Module):
    def __init__(self):
        super().__init__(name="regressor")
        self.w = tf.Variable([[0.2], [0.4]], name="w")
        self.scale = tf.Variable(1.3, name="scale")
        self.unused = tf.Variable(0.0, name="unused")

    def __call__(self, x, y):
        pred = tf.matmul(x, self.w) * tf.round(self.scale)
        return tf.reduce_mean(tf.square(pred - y))


loss_fn = Regressor()
example_inputs = (tf.constant([[1.0, 2.0], [3.0, -1.0]]), tf.constant([[1.0], [2.0]]))
