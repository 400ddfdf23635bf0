# Exercises: a compiled Keras 3 Sequential model as the target (no loss
# attribute; the only compiled keras.Model). All weights flow.
import keras
import numpy as np

keras.utils.set_random_seed(0)

model = keras.Sequential([
    keras.Input(shape=(4,)),
    keras.layers.Dense(3, activation="tanh", name="hidden"),
    keras.layers.Dense(1, name="out"),
])
model.compile(optimizer="sgd", loss="mse")

rng = np.random.default_rng(0)
example_inputs = (rng.standard_normal((5, 4)).astype("float32"),
                  rng.standard_normal((5, 1)).astype("float32"))
