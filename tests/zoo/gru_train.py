# Zoo: a subclassed keras.Model with a GRU (return_sequences, input dropout)
# over masked token embeddings, masked average pooling and Dense logits, in
# training mode under a `loss` tf.function.
import keras
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, VOCAB, seed, sparse_ce, token_batch


class GRUClassifier(keras.Model):
    def __init__(self):
        super().__init__(name="gru_classifier")
        self.embed = layers.Embedding(VOCAB, 8, mask_zero=True, name="embed")
        self.gru = layers.GRU(8, return_sequences=True, dropout=0.2, seed=1, name="gru")
        self.pool = layers.GlobalAveragePooling1D()
        self.head = layers.Dense(CLASSES, name="head")

    def call(self, ids, training=None):
        mask = self.embed.compute_mask(ids)
        h = self.gru(self.embed(ids), mask=mask, training=training)
        return self.head(self.pool(h, mask=mask))


seed()
model = GRUClassifier()
example_inputs = token_batch()


@tf.function
def loss(ids, y):
    return sparse_ce(y, model(ids, training=True), from_logits=True)
