# Zoo: a compiled functional model with two Bidirectional LSTMs over float
# sequences (the first concatenates and returns sequences, the second sums its
# directions), Dense logits: training=True.
import keras
from keras import layers

from _zoo import CLASSES, FEATURES, STEPS, compile_classifier, seed, sequence_batch

seed()
inputs = keras.Input((STEPS, FEATURES))
h = layers.Bidirectional(layers.LSTM(6, return_sequences=True, dropout=0.2, seed=1), name="bi1")(inputs)
h = layers.Bidirectional(layers.LSTM(4), merge_mode="sum", name="bi2")(h)
outputs = layers.Dense(CLASSES, name="head")(h)
model = compile_classifier(keras.Model(inputs, outputs, name="bilstm"), from_logits=True)
example_inputs = sequence_batch()
