# Exercises: a Keras 2 (tf_keras) subclassed model with a frozen layer
# (trainable=False: TensorFlow still differentiates it when watched) and a
# branch through an integer cast, whose layer gets no gradient from that path.
import numpy as np
import tensorflow as tf
import tf_keras as keras

tf.random.set_seed(0)


class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.frozen = keras.layers.Dense(4, name="frozen")
        self.frozen.trainable = False
        self.bucket = keras.layers.Dense(4, name="bucket")
        self.head = keras.layers.Dense(1, name="head")

    def call(self, x):
        h = tf.nn.relu(self.frozen(x))
        buckets = tf.cast(tf.cast(self.bucket(x) * 3.0, tf.int32), tf.float32)
        return self.head(h + buckets)


model = Net()
x = tf.constant(np.random.default_rng(1).standard_normal((3, 5)).astype("float32"))
model(x)


@tf.function
def loss():
    return tf.reduce_sum(model(x) ** 2)
