"""Classic mistake: a two-headed Keras model whose loss only reads one head.

TensorFlow warns "Gradients do not exist for variables [...]"; gradflow says the
`aux` head is disconnected: the loss never reads it.
"""
import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(0)
inputs = keras.Input((8,), name="x")
trunk = keras.layers.Dense(16, activation="relu", name="trunk")(inputs)
main = keras.layers.Dense(1, name="main")(trunk)
aux = keras.layers.Dense(4, name="aux")(trunk)
model = keras.Model(inputs, [main, aux])

x = np.random.default_rng(0).standard_normal((32, 8)).astype("float32")
y = np.random.default_rng(1).standard_normal((32, 1)).astype("float32")

def loss(x, y):
    main_out, aux_out = model(x, training=True)
    return tf.reduce_mean(tf.square(main_out - y))  # aux_out is never used

example_inputs = (x, y)
