# tf_keras (Keras 2): a Lambda layer rounds the encoder's output with backend.round,
# which has no gradient: the encoder gets none, the decoder learns.
import numpy as np
import tf_keras as keras

inp = keras.Input((5,))
h = keras.layers.Dense(4, name="enc")(inp)
q = keras.layers.Lambda(lambda t: keras.backend.round(t * 4.0) / 4.0, name="quantize")(h)
out = keras.layers.Dense(1, name="dec")(q)
model = keras.Model(inp, out)
model.compile(optimizer="sgd", loss="mse")
example_inputs = (np.ones((3, 5), "float32"), np.zeros((3, 1), "float32"))
