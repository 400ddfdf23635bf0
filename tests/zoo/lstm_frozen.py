# Zoo: a frozen LSTM encoder (Embedding + LSTM over padded ids, training
# mode) cut by tf.stop_gradient in a `loss` tf.function, with a trainable head
# and an auxiliary head that never reaches the loss. The encoder is blocked at
# the cut; `head` flows; `unused_head` is disconnected.
import keras
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, STEPS, VOCAB, seed, sparse_ce, token_batch

seed()
encoder = keras.Sequential([
    keras.Input((STEPS,), dtype="int32"),
    layers.Embedding(VOCAB, 8, mask_zero=True, name="embed"),
    layers.LSTM(8, dropout=0.2, seed=1, name="lstm"),
], name="encoder")
head = layers.Dense(CLASSES, name="head")
unused_head = layers.Dense(2, name="unused_head")
example_inputs = token_batch()


@tf.function
def loss(ids, y):
    code = tf.stop_gradient(encoder(ids, training=True))  # zoo: cut
    _aux = unused_head(code)
    return sparse_ce(y, head(code), from_logits=True)
