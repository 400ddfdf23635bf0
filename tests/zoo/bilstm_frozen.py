# Zoo: a frozen Bidirectional-LSTM encoder over masked token embeddings
# (training mode), cut by tf.stop_gradient in a `loss` tf.function, then a
# trainable LSTM + Dense head over the frozen sequence features. The encoder
# is blocked at the cut; the head flows.
import keras
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, STEPS, VOCAB, seed, sparse_ce, token_batch

seed()
encoder = keras.Sequential([
    keras.Input((STEPS,), dtype="int32"),
    layers.Embedding(VOCAB, 8, mask_zero=True, name="embed"),
    layers.Bidirectional(layers.LSTM(6, return_sequences=True, dropout=0.2, seed=1), name="bi"),
], name="encoder")
head_lstm = layers.LSTM(4, name="head_lstm")
head = layers.Dense(CLASSES, name="head")
example_inputs = token_batch()


@tf.function
def loss(ids, y):
    features = tf.stop_gradient(encoder(ids, training=True))  # zoo: cut
    return sparse_ce(y, head(head_lstm(features)), from_logits=True)
