"""VAE with the reparameterisation trick; the KL term via add_loss-free custom train_step."""
import os
import sys

import keras
import numpy as np
import tensorflow as tf
from keras import layers

data = np.load(os.environ.get("GRADFLOW_TEST_DATA", sys.argv[-1]))["images"].astype("float32")


class Sampling(layers.Layer):
    def call(self, inputs):
        mean, log_var = inputs
        eps = tf.random.normal(tf.shape(mean))
        return mean + tf.exp(0.5 * log_var) * eps


inp = keras.Input((8, 8, 1))
h = layers.Flatten()(inp)
h = layers.Dense(16, activation="relu")(h)
z_mean = layers.Dense(2, name="z_mean")(h)
z_log_var = layers.Dense(2, name="z_log_var")(h)
z = Sampling()([z_mean, z_log_var])
encoder = keras.Model(inp, [z_mean, z_log_var, z], name="encoder")
lat = keras.Input((2,))
decoder = keras.Model(lat, layers.Reshape((8, 8, 1))(layers.Dense(64, activation="sigmoid")(lat)), name="decoder")


class VAE(keras.Model):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def train_step(self, x):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(x)
            recon = self.decoder(z)
            rec = tf.reduce_mean(tf.reduce_sum(keras.losses.binary_crossentropy(x, recon), axis=(1, 2)))
            kl = -0.5 * tf.reduce_mean(tf.reduce_sum(1 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var), axis=1))
            loss = rec + kl
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return {"loss": loss}


vae = VAE(encoder, decoder)
vae.compile(optimizer=keras.optimizers.Adam())
vae.fit(data, epochs=2, batch_size=4, verbose=0)
