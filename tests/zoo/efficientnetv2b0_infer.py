# Zoo: EfficientNetV2B0 wrapped in a subclassed keras.Model (backbone without
# top, pooling, Dense head), in inference mode under a `loss` tf.function.
import keras
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, application, image_batch, seed, sparse_ce


class Classifier(keras.Model):
    def __init__(self):
        super().__init__(name="effnetv2_classifier")
        self.backbone = application("EfficientNetV2B0", include_top=False, pooling="avg")
        self.head = layers.Dense(CLASSES, name="head")

    def call(self, x, training=None):
        return self.head(self.backbone(x, training=training))


seed()
model = Classifier()
example_inputs = image_batch("EfficientNetV2B0")


@tf.function
def loss(x, y):
    return sparse_ce(y, model(x, training=False), from_logits=True)
