"""VQ-VAE: nearest codebook entry via argmin, straight-through estimator x + stop_gradient(q - x)."""
import sys

import keras
import numpy as np
import tensorflow as tf
from keras import layers

x_train = np.load(sys.argv[1])["images"].astype("float32")


class VectorQuantizer(layers.Layer):
    def __init__(self, num_embeddings, embedding_dim, beta=0.25, **kwargs):
        super().__init__(**kwargs)
        self.embedding_dim, self.num_embeddings, self.beta = embedding_dim, num_embeddings, beta
        self.embeddings = self.add_weight(shape=(embedding_dim, num_embeddings), initializer="random_uniform",
                                          name="embeddings")

    def call(self, x):
        shape = tf.shape(x)
        flat = tf.reshape(x, [-1, self.embedding_dim])
        distances = (tf.reduce_sum(flat ** 2, axis=1, keepdims=True) + tf.reduce_sum(self.embeddings ** 2, axis=0)
                     - 2 * tf.matmul(flat, self.embeddings))
        indices = tf.argmin(distances, axis=1)
        encodings = tf.one_hot(indices, self.num_embeddings)
        quantized = tf.reshape(tf.matmul(encodings, self.embeddings, transpose_b=True), shape)
        commitment = tf.reduce_mean((tf.stop_gradient(quantized) - x) ** 2)
        codebook = tf.reduce_mean((quantized - tf.stop_gradient(x)) ** 2)
        self.add_loss(self.beta * commitment + codebook)
        return x + tf.stop_gradient(quantized - x)


inp = keras.Input((8, 8, 1))
enc = layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
q = VectorQuantizer(8, 4, name="vq")(enc)
out = layers.Conv2D(1, 3, padding="same")(q)
vqvae = keras.Model(inp, out)
vqvae.compile(optimizer="adam", loss="mse")
vqvae.fit(x_train, x_train, epochs=2, batch_size=4, verbose=0)
