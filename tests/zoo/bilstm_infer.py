# Zoo: a Bidirectional LSTM over masked token embeddings (the mask reaches
# both directions; the backward one reverses the padded sequence) in inference
# mode under a `loss` tf.function.
import keras
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, STEPS, VOCAB, seed, sparse_ce, token_batch

seed()
model = keras.Sequential([
    keras.Input((STEPS,), dtype="int32"),
    layers.Embedding(VOCAB, 8, mask_zero=True, name="embed"),
    layers.Bidirectional(layers.LSTM(6, dropout=0.2, seed=1), name="bi"),
    layers.Dense(CLASSES, name="head"),
], name="bilstm_tokens")
example_inputs = token_batch()


@tf.function
def loss(ids, y):
    return sparse_ce(y, model(ids, training=False), from_logits=True)
