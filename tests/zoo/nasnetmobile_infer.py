# Zoo: keras.applications.NASNetMobile in inference mode under a `loss`
# tf.function.
import tensorflow as tf

from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("NASNetMobile")
example_inputs = image_batch("NASNetMobile")


@tf.function
def loss(x, y):
    return sparse_ce(y, model(x, training=False))
