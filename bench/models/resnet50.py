"""Benchmark model, large: ResNet50 (keras.applications, weights=None) on 32x32 images, compiled."""
import keras
import numpy as np

keras.utils.set_random_seed(0)

model = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)
model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy())

rng = np.random.default_rng(0)
example_inputs = (rng.standard_normal((2, 32, 32, 3)).astype("float32"), np.array([1, 7], dtype="int32"))
