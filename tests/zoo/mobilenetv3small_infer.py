# Zoo: keras.applications.MobileNetV3Small in inference mode under a `loss_fn`
# tf.function (the second target name of the contract).
import tensorflow as tf

from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("MobileNetV3Small")
example_inputs = image_batch("MobileNetV3Small")


@tf.function
def loss_fn(x, y):
    return sparse_ce(y, model(x, training=False))
