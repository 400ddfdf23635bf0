# Exercises: Keras 3 under the mixed_float16 policy, compiled (Keras wraps the
# optimizer in a LossScaleOptimizer). The float32 <-> float16 casts around
# every layer are not cuts; the branch that rounds through an int32 cast is
# (its `bucket` layer gets no gradient).
import keras
import numpy as np
import tensorflow as tf

keras.mixed_precision.set_global_policy("mixed_float16")
keras.utils.set_random_seed(0)


class IntBucket(keras.layers.Layer):
    def call(self, x):
        return tf.cast(tf.cast(x * 4.0, tf.int32), x.dtype)


inp = keras.Input((6,))
h = keras.layers.Dense(8, activation="relu", name="hidden")(inp)
b = IntBucket(name="int_bucket")(keras.layers.Dense(8, name="bucket")(inp))
out = keras.layers.Dense(1, name="out", dtype="float32")(keras.layers.Add()([h, b]))
model = keras.Model(inp, out)
model.compile(optimizer="sgd", loss="mse")

rng = np.random.default_rng(0)
example_inputs = (rng.standard_normal((4, 6)).astype("float32"), rng.standard_normal((4, 1)).astype("float32"))
