# Exercises: a Keras 3 Sequential model used inside a @tf.function loss with a
# keras loss object. All weights flow.
import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                          keras.layers.Dense(2)])
mse = keras.losses.MeanSquaredError()
rng = np.random.default_rng(4)
example_inputs = (tf.constant(rng.standard_normal((6, 3)).astype("float32")),
                  tf.constant(rng.standard_normal((6, 2)).astype("float32")))


@tf.function
def loss(x, y):
    return mse(y, model(x, training=True))
