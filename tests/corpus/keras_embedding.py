# Exercises: a Keras 3 Embedding layer (sparse IndexedSlices gradient) feeding
# a Dense head, as a compiled model target. The embedding table and the head
# flow.
import keras
import numpy as np

keras.utils.set_random_seed(0)

model = keras.Sequential([
    keras.Input(shape=(3,), dtype="int32"),
    keras.layers.Embedding(10, 4, name="emb"),
    keras.layers.GlobalAveragePooling1D(),
    keras.layers.Dense(1, name="head"),
])
model.compile(optimizer="sgd", loss="mse")

example_inputs = (np.array([[1, 2, 3], [4, 4, 0]], dtype="int32"),
                  np.array([[1.0], [0.0]], dtype="float32"))
