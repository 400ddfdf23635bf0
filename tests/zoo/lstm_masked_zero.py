# Zoo: an LSTM over an all-padding batch (every token id 0, Embedding with
# mask_zero): the mask holds every step's state back, so the LSTM returns its
# zero initial state. The embedding, the LSTM weights and the head's kernel
# are connected to the loss, but their gradients are all zero (TensorFlow
# returns zero tensors through the masked tf.where, not None); only the head's
# bias learns.
import keras
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, STEPS, VOCAB, labels, seed, sparse_ce

seed()
model = keras.Sequential([
    keras.Input((STEPS,), dtype="int32"),
    layers.Embedding(VOCAB, 8, mask_zero=True, name="embed"),
    layers.LSTM(8, name="lstm"),
    layers.Dense(CLASSES, name="head"),
], name="all_masked")
example_inputs = (tf.zeros((2, STEPS), tf.int32), labels())


@tf.function
def loss(ids, y):
    return sparse_ce(y, model(ids, training=False), from_logits=True)
