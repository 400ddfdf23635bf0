# Zoo: a subclassed keras.Model whose call() freezes its ConvNeXtTiny backbone
# with keras.ops.stop_gradient (traced from this file's line) before a
# trainable head, in training mode under a `loss` tf.function. The backbone is
# blocked at the cut; the head flows.
import keras
import tensorflow as tf
from keras import layers, ops

from _zoo import CLASSES, application, image_batch, seed, sparse_ce


class FrozenBackbone(keras.Model):
    def __init__(self):
        super().__init__(name="frozen_convnext")
        self.backbone = application("ConvNeXtTiny", include_top=False, pooling="avg")
        self.head = layers.Dense(CLASSES, name="head")

    def call(self, x, training=None):
        features = ops.stop_gradient(self.backbone(x, training=training))  # zoo: cut
        return self.head(features)


seed()
model = FrozenBackbone()
example_inputs = image_batch("ConvNeXtTiny")


@tf.function
def loss(x, y):
    return sparse_ce(y, model(x, training=True), from_logits=True)
