# Zoo: a subclassed keras.Model around keras.applications.ConvNeXtTiny
# (LayerNormalization, depthwise 7x7 convolutions, GELU, layer-scale gammas)
# with a Dense head, compiled: training=True.
import keras
from keras import layers

from _zoo import CLASSES, application, compile_classifier, image_batch, seed


class Classifier(keras.Model):
    def __init__(self):
        super().__init__(name="convnext_classifier")
        self.backbone = application("ConvNeXtTiny", include_top=False, pooling="avg")
        self.head = layers.Dense(CLASSES, name="head")

    def call(self, x, training=None):
        return self.head(self.backbone(x, training=training))


seed()
example_inputs = image_batch("ConvNeXtTiny")
model = Classifier()
model(example_inputs[0])
model = compile_classifier(model, from_logits=True)
