# Exercises: a compiled subclassed Keras 3 model as the target. The `gate`
# layer's output only selects through argmax/one_hot, so its weights are
# blocked; `body` flows; `spare` is built but never called (disconnected).
import keras
import numpy as np
from keras import layers, ops

keras.utils.set_random_seed(0)


class Gated(keras.Model):
    def __init__(self):
        super().__init__(name="gated")
        self.body = layers.Dense(3, name="body")
        self.gate = layers.Dense(3, name="gate")
        self.spare = layers.Dense(3, name="spare")

    def build(self, input_shape):
        self.body.build(input_shape)
        self.gate.build(input_shape)
        self.spare.build(input_shape)

    def call(self, x):
        mask = ops.one_hot(ops.argmax(self.gate(x), axis=-1), 3)
        return ops.sum(self.body(x) * mask, axis=-1, keepdims=True)


model = Gated()
model.build((None, 2))
model.compile(optimizer="sgd", loss="mse")

rng = np.random.default_rng(2)
example_inputs = (rng.standard_normal((4, 2)).astype("float32"),
                  rng.standard_normal((4, 1)).astype("float32"))
