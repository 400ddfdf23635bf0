"""A large Keras model: DenseNet121 (keras.applications, untrained) on 32x32 images.

About 600 variables and several thousand ops: `gradflow inspect` collapses its
graph automatically; `--focus NAME` draws one variable's paths in full.

    gradflow inspect examples/densenet.py --svg densenet.svg
    gradflow inspect examples/densenet.py --svg head.svg --focus predictions/kernel
"""
import keras
import numpy as np

keras.utils.set_random_seed(0)

model = keras.applications.DenseNet121(weights=None, input_shape=(32, 32, 3), classes=10)
model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy())

rng = np.random.default_rng(0)
example_inputs = (rng.standard_normal((2, 32, 32, 3)).astype("float32"),
                  np.array([1, 7], dtype="int32"))
