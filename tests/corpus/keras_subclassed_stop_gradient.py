# Exercises: a subclassed Keras 3 model whose call() applies
# keras.ops.stop_gradient to a sub-layer output (a frozen "teacher" feature),
# called from a `loss` function. `student` and `head` flow; `teacher` is
# blocked; `ema` is a non-trainable layer weight added by add_weight and never
# read (disconnected).
import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

keras.utils.set_random_seed(0)


class Distill(keras.Model):
    def __init__(self):
        super().__init__(name="distill")
        self.student = layers.Dense(3, name="student")
        self.teacher = layers.Dense(3, name="teacher")
        self.head = layers.Dense(1, name="head")

    def build(self, input_shape):
        self.ema = self.add_weight(shape=(3,), initializer="zeros", trainable=False, name="ema")
        super().build(input_shape)

    def call(self, x):
        t = ops.stop_gradient(self.teacher(x))
        s = self.student(x)
        return self.head(s), ops.mean(ops.square(s - t))


model = Distill()
rng = np.random.default_rng(9)
x0 = tf.constant(rng.standard_normal((4, 2)).astype("float32"))
model(x0)
example_inputs = (x0, tf.constant(rng.standard_normal((4, 1)).astype("float32")))


def loss(x, y):
    pred, distill = model(x, training=True)
    return tf.reduce_mean(tf.square(pred - y)) + distill
