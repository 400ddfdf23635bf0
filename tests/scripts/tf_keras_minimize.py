"""An eager loop with a Keras 2 (tf_keras) optimizer's minimize(loss_fn, var_list): no tape in the script.

The temperature is read only through tf.stop_gradient, so it never learns.
"""
import sys

import numpy as np
import tensorflow as tf
import tf_keras as keras

data = np.load(sys.argv[1])
features, labels = data["features"], data["labels"]
model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(4)])
temperature = tf.Variable(2.0, name="temperature")
optimizer = keras.optimizers.Adam(1e-2)
loss_object = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

for step in range(10):
    idx = np.arange(step * 4, step * 4 + 4) % len(features)
    x, y = features[idx], labels[idx]

    def loss_fn():
        return loss_object(y, model(x) / tf.stop_gradient(temperature))

    optimizer.minimize(loss_fn, var_list=model.trainable_variables + [temperature])
