# Zoo: keras.applications.InceptionV3 at 75x75 in inference mode under a
# `loss` tf.function.
import tensorflow as tf

from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("InceptionV3")
example_inputs = image_batch("InceptionV3")


@tf.function
def loss(x, y):
    return sparse_ce(y, model(x, training=False))
