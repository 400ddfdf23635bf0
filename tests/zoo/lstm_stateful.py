# Zoo: a stateful LSTM (fixed batch of 2): its carried hidden and cell states
# are non-trainable float variables that each call reads as the initial state
# and then overwrites. The loss reads them, so TensorFlow's tape, watching
# every variable, gives them a gradient too. Inference mode, `loss`
# tf.function.
import keras
import tensorflow as tf
from keras import layers

from _zoo import BATCH, CLASSES, FEATURES, STEPS, seed, sequence_batch, sparse_ce

seed()
model = keras.Sequential([
    keras.Input((STEPS, FEATURES), batch_size=BATCH),
    layers.LSTM(6, stateful=True, name="lstm"),
    layers.Dense(CLASSES, name="head"),
], name="stateful")
example_inputs = sequence_batch()


@tf.function
def loss(x, y):
    return sparse_ce(y, model(x, training=False), from_logits=True)
