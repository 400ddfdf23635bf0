# Zoo: keras.applications.DenseNet121 in training mode under a `loss`
# tf.function (dense blocks: every layer's output concatenated into all later
# ones; about 600 variables).
import tensorflow as tf

from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("DenseNet121")
example_inputs = image_batch("DenseNet121")


@tf.function
def loss(x, y):
    return sparse_ce(y, model(x, training=True))
