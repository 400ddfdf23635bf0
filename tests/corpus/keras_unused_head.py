# Exercises: a multi-output Keras 3 functional model where the loss reads only
# one output. The shared trunk and the used head flow; the `aux_head` weights
# are computed in the forward pass but never reach the loss (no gradient).
import keras
import numpy as np
import tensorflow as tf
from keras import layers

keras.utils.set_random_seed(0)

inp = keras.Input(shape=(3,))
trunk = layers.Dense(4, activation="tanh", name="trunk")(inp)
main_out = layers.Dense(1, name="main_head")(trunk)
aux_out = layers.Dense(2, name="aux_head")(trunk)
model = keras.Model(inp, [main_out, aux_out], name="two_heads")

rng = np.random.default_rng(5)
example_inputs = (tf.constant(rng.standard_normal((4, 3)).astype("float32")),
                  tf.constant(rng.standard_normal((4, 1)).astype("float32")))


@tf.function
def loss(x, y):
    main, _aux = model(x, training=True)
    return tf.reduce_mean(tf.square(main - y))
