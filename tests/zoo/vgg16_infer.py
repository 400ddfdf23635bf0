# Zoo: keras.applications.VGG16 in inference mode under a `loss` tf.function.
import tensorflow as tf

from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("VGG16")
example_inputs = image_batch("VGG16")


@tf.function
def loss(x, y):
    return sparse_ce(y, model(x, training=False))
