# A compiled Keras model trained on `example_batches` (three batches, cycled)
# with its own optimizer (Adam). BatchNormalization's moving statistics are
# not trainable: the layer updates them itself during training.
import keras
import numpy as np
from keras import layers

keras.utils.set_random_seed(0)

model = keras.Sequential([
    keras.Input((4,)),
    layers.Dense(6, activation="tanh", name="hidden"),
    layers.BatchNormalization(name="bn"),
    layers.Dense(1, name="out"),
], name="net")  # named: Keras numbers unnamed models (sequential_1, ...) per process
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")

rng = np.random.default_rng(3)
example_batches = [
    (rng.standard_normal((6, 4)).astype("float32"), rng.standard_normal((6, 1)).astype("float32"))
    for _ in range(3)
]
