# Exercises: a subclassed Keras 3 model called from a user `loss_fn` (the
# target is the function, not the model). The encoder flows; the decoder's
# output goes through tf.floor before the loss (blocked).
import keras
import numpy as np
import tensorflow as tf
from keras import layers

keras.utils.set_random_seed(0)


class AutoEnc(keras.Model):
    def __init__(self):
        super().__init__()
        self.encoder = layers.Dense(2, activation="tanh", name="encoder")
        self.decoder = layers.Dense(3, name="decoder")

    def call(self, x):
        z = self.encoder(x)
        return z, self.decoder(z)


model = AutoEnc()
rng = np.random.default_rng(3)
x0 = rng.standard_normal((4, 3)).astype("float32")
model(x0)
example_inputs = (tf.constant(x0),)


def loss_fn(x):
    z, recon = model(x, training=True)
    return tf.reduce_mean(tf.square(tf.floor(recon) - x)) + tf.reduce_mean(tf.square(z))
