# Zoo: Xception frozen both ways inside a compiled functional model: the base
# has trainable=False (so its BatchNorm runs in inference mode and reads its
# moving statistics) and its output is cut by keras.ops.stop_gradient on a
# symbolic tensor before a trainable head. Every base variable is read by the
# loss and blocked at the cut; the head flows. The cut is replayed by Keras, so
# no line of this file is on the stack when TensorFlow creates it.
import keras
from keras import layers, ops

from _zoo import CLASSES, SIZES, application, compile_classifier, image_batch, seed

seed()
base = application("Xception", include_top=False, pooling="avg", name="base")
base.trainable = False
inputs = keras.Input((SIZES["Xception"], SIZES["Xception"], 3))
features = ops.stop_gradient(base(inputs))  # zoo: cut (replayed)
outputs = layers.Dense(CLASSES, name="head")(features)
model = compile_classifier(keras.Model(inputs, outputs, name="frozen_xception"), from_logits=True)
example_inputs = image_batch("Xception")
