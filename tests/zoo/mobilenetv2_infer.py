# Zoo: the subclassed MobileNetV2 classifier (alpha 0.35, Dropout, Dense head)
# in inference mode under a `loss` tf.function: Dropout off, BatchNorm moving
# statistics read.
import keras
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, application, image_batch, seed, sparse_ce


class Classifier(keras.Model):
    def __init__(self):
        super().__init__(name="mobilenetv2_classifier")
        self.backbone = application("MobileNetV2", include_top=False, alpha=0.35)
        self.pool = layers.GlobalAveragePooling2D()
        self.drop = layers.Dropout(0.2, seed=1)
        self.head = layers.Dense(CLASSES, name="head")

    def call(self, x, training=None):
        h = self.pool(self.backbone(x, training=training))
        return self.head(self.drop(h, training=training))


seed()
example_inputs = image_batch("MobileNetV2")
model = Classifier()


@tf.function
def loss(x, y):
    return sparse_ce(y, model(x, training=False), from_logits=True)
