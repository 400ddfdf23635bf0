# Zoo: a frozen MobileNetV3Small backbone (include_top=False, average pooling)
# in training mode, cut by tf.stop_gradient in a `loss` tf.function, with a
# trainable Dense head. Every trainable backbone variable is read by the loss
# and blocked at the stop_gradient; BatchNorm's moving statistics are only
# updated (training=True), never read by the loss; the head flows.
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, application, image_batch, seed, sparse_ce

seed()
backbone = application("MobileNetV3Small", include_top=False, pooling="avg", name="backbone")
head = layers.Dense(CLASSES, name="head")
example_inputs = image_batch("MobileNetV3Small")


@tf.function
def loss(x, y):
    features = tf.stop_gradient(backbone(x, training=True))  # zoo: cut
    return sparse_ce(y, head(features), from_logits=True)
