# Zoo: keras.applications.EfficientNetB0 in inference mode under a `loss`
# tf.function. Its (never adapted) Normalization layer has mean, variance and
# count variables that the loss never reads: Keras snapshots mean and variance
# into constant tensors when the layer is built, so they get no gradient.
import tensorflow as tf

from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("EfficientNetB0")
example_inputs = image_batch("EfficientNetB0")


@tf.function
def loss(x, y):
    return sparse_ce(y, model(x, training=False))
