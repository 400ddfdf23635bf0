# Zoo: keras.applications.ResNet50 in inference mode (training=False) under a
# `loss` tf.function: BatchNorm normalises with its moving statistics, so the
# moving mean/variance are read by the loss and get a gradient too.
import tensorflow as tf

from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("ResNet50")
example_inputs = image_batch("ResNet50")


@tf.function
def loss(x, y):
    return sparse_ce(y, model(x, training=False))
