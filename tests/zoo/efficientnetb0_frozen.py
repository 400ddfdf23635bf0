# Zoo: a frozen EfficientNetB0 feature extractor in training mode, cut by
# tf.stop_gradient in a `loss` tf.function, with a trainable head and an
# auxiliary head that is computed but never reaches the loss. The backbone is
# blocked at the cut; `head` flows; `unused_head` is disconnected.
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, application, image_batch, seed, sparse_ce

seed()
backbone = application("EfficientNetB0", include_top=False, pooling="avg", name="backbone")
head = layers.Dense(CLASSES, name="head")
unused_head = layers.Dense(1, name="unused_head")
example_inputs = image_batch("EfficientNetB0")


@tf.function
def loss(x, y):
    features = tf.stop_gradient(backbone(x, training=True))  # zoo: cut
    _aux = unused_head(features)
    return sparse_ce(y, head(features), from_logits=True)
