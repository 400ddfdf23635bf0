# Zoo: keras.applications.ConvNeXtTiny (its own classifier head) in inference
# mode under a `loss` tf.function.
import tensorflow as tf

from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("ConvNeXtTiny")
example_inputs = image_batch("ConvNeXtTiny")


@tf.function
def loss(x, y):
    return sparse_ce(y, model(x, training=False))
