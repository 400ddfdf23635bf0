# Zoo: keras.applications.ResNet50V2 (logits, no softmax) in training mode
# under a `loss` tf.function: pre-activation BatchNorm with batch statistics.
import tensorflow as tf

from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("ResNet50V2", classifier_activation=None)
example_inputs = image_batch("ResNet50V2")


@tf.function
def loss(x, y):
    return sparse_ce(y, model(x, training=True), from_logits=True)
