# Exercises (slow): a small compiled Keras 3 CNN (Conv2D, MaxPooling,
# BatchNormalization, Dropout, Flatten, Dense) with an L2 kernel regularizer,
# as the compiled-model target. Trainable weights flow; BN moving statistics
# and the Dropout seed state get no gradient.
import keras
import numpy as np
from keras import layers

keras.utils.set_random_seed(0)

model = keras.Sequential([
    keras.Input((8, 8, 1)),
    layers.Conv2D(4, 3, activation="relu", name="conv1",
                  kernel_regularizer=keras.regularizers.L2(1e-3)),
    layers.BatchNormalization(name="bn1"),
    layers.MaxPooling2D(2),
    layers.Conv2D(8, 3, padding="same", activation="relu", name="conv2"),
    layers.Flatten(),
    layers.Dropout(0.2, seed=2),
    layers.Dense(3, name="logits"),
], name="cnn")
model.compile(optimizer="adam",
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

rng = np.random.default_rng(8)
example_inputs = (rng.standard_normal((4, 8, 8, 1)).astype("float32"),
                  np.array([0, 1, 2, 1], dtype="int32"))
