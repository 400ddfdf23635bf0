# Zoo: a frozen InceptionV3 feature extractor in inference mode, cut by
# tf.stop_gradient in a `loss` tf.function, with a trainable head. In
# inference mode BatchNorm reads its moving statistics, so every backbone
# variable, moving statistics included, is read by the loss and blocked at the
# cut; the head flows.
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, application, image_batch, seed, sparse_ce

seed()
backbone = application("InceptionV3", include_top=False, pooling="max", name="backbone")
head = layers.Dense(CLASSES, name="head")
example_inputs = image_batch("InceptionV3")


@tf.function
def loss(x, y):
    features = tf.stop_gradient(backbone(x, training=False))  # zoo: cut
    return sparse_ce(y, head(features), from_logits=True)
