# Zoo: the Keras transfer-learning recipe: a MobileNetV2 base with
# base.trainable = False, called with training=False inside a functional model
# with a new Dense head, compiled (training=True). The frozen base runs in
# inference mode; its variables are all non-trainable, but they are read by the
# loss and TensorFlow's tape differentiates them when watched.
import keras
from keras import layers

from _zoo import CLASSES, SIZES, application, compile_classifier, image_batch, seed

seed()
base = application("MobileNetV2", include_top=False, alpha=0.35)
base.trainable = False
inputs = keras.Input((SIZES["MobileNetV2"], SIZES["MobileNetV2"], 3))
h = layers.GlobalAveragePooling2D()(base(inputs, training=False))
outputs = layers.Dense(CLASSES, name="head")(layers.Dropout(0.2, seed=1)(h))
model = compile_classifier(keras.Model(inputs, outputs, name="transfer"), from_logits=True)
example_inputs = image_batch("MobileNetV2")
