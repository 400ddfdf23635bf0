# Zoo: keras.applications.EfficientNetV2B0 (fused MBConv blocks) in training
# mode under a `loss` tf.function.
import tensorflow as tf

from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("EfficientNetV2B0", classifier_activation=None)
example_inputs = image_batch("EfficientNetV2B0")


@tf.function
def loss(x, y):
    return sparse_ce(y, model(x, training=True), from_logits=True)
