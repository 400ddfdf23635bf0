# Zoo: a frozen NASNetMobile feature extractor in training mode, cut by
# tf.stop_gradient in a `loss` tf.function, with a trainable head: the
# backbone is blocked at the cut (its moving statistics only updated); the head
# flows.
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, application, image_batch, seed, sparse_ce

seed()
backbone = application("NASNetMobile", include_top=False, pooling="avg", name="backbone")
head = layers.Dense(CLASSES, name="head")
example_inputs = image_batch("NASNetMobile")


@tf.function
def loss(x, y):
    features = tf.stop_gradient(backbone(x, training=True))  # zoo: cut
    return sparse_ce(y, head(features), from_logits=True)
