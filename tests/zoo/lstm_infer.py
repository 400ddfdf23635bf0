# Zoo: two stacked LSTMs (the first returns sequences) over masked token
# embeddings, in inference mode under a `loss` tf.function: dropout off.
import keras
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, STEPS, VOCAB, seed, sparse_ce, token_batch

seed()
model = keras.Sequential([
    keras.Input((STEPS,), dtype="int32"),
    layers.Embedding(VOCAB, 8, mask_zero=True, name="embed"),
    layers.LSTM(8, return_sequences=True, dropout=0.2, seed=1, name="lstm1"),
    layers.LSTM(6, recurrent_dropout=0.2, seed=2, name="lstm2"),
    layers.Dense(CLASSES, name="head"),
], name="stacked_lstm")
example_inputs = token_batch()


@tf.function
def loss(ids, y):
    return sparse_ce(y, model(ids, training=False), from_logits=True)
