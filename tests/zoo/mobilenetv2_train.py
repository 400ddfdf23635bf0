# Zoo: a subclassed keras.Model around keras.applications.MobileNetV2
# (include_top=False, alpha 0.35) with pooling, Dropout and a Dense head,
# compiled: the contract runs it with training=True (BatchNorm batch
# statistics, Dropout active).
import keras
from keras import layers

from _zoo import CLASSES, application, compile_classifier, image_batch, seed


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
model(example_inputs[0])
model = compile_classifier(model, from_logits=True)
