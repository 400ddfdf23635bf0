# Zoo: a Bidirectional LSTM with merge_mode=None (it returns the forward and
# backward outputs separately) where the loss reads only the forward half; the
# returned final states of a second, state-returning GRU are used but its
# sequence output is not. The backward LSTM is computed but never reaches the
# loss (disconnected); everything else flows. Training mode, `loss`
# tf.function.
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, seed, sequence_batch, sparse_ce

seed()
bi = layers.Bidirectional(layers.LSTM(5, return_sequences=True), merge_mode=None, name="bi")
gru = layers.GRU(4, return_sequences=True, return_state=True, go_backwards=True, name="gru")
head = layers.Dense(CLASSES, name="head")
example_inputs = sequence_batch()


@tf.function
def loss(x, y):
    forward, _backward = bi(x, training=True)
    _sequence, state = gru(forward, training=True)
    return sparse_ce(y, head(state), from_logits=True)
