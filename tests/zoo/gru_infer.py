# Zoo: a GRU (reset_after=False, the TF1-style variant) over float sequences,
# in inference mode; the loss a plain Python function.
import keras
from keras import layers

from _zoo import CLASSES, FEATURES, STEPS, seed, sequence_batch, sparse_ce

seed()
model = keras.Sequential([
    keras.Input((STEPS, FEATURES)),
    layers.GRU(8, reset_after=False, dropout=0.2, seed=1, name="gru"),
    layers.Dense(CLASSES, name="head"),
], name="gru_v1")
example_inputs = sequence_batch()


def loss(x, y):
    return sparse_ce(y, model(x, training=False), from_logits=True)
