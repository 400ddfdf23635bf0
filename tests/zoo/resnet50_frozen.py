# Zoo: a frozen ResNet50 backbone (include_top=False, average pooling) cut by
# keras.ops.stop_gradient on a symbolic tensor inside a compiled functional
# model, with a trainable Dense head. The compiled model runs with
# training=True, so the backbone's BatchNorm uses batch statistics: its
# kernels, gammas and betas are read by the loss and blocked at the cut; its
# moving statistics are only updated (no gradient); the head flows. The cut is
# replayed by Keras when the model is called, so no line of this file is on
# the stack when TensorFlow creates the StopGradient op.
import keras
from keras import layers, ops

from _zoo import CLASSES, SIZES, application, compile_classifier, image_batch, seed

seed()
backbone = application("ResNet50", include_top=False, pooling="avg", name="backbone")
inputs = keras.Input((SIZES["ResNet50"], SIZES["ResNet50"], 3))
features = ops.stop_gradient(backbone(inputs))  # zoo: cut (replayed)
outputs = layers.Dense(CLASSES, name="head")(features)
model = compile_classifier(keras.Model(inputs, outputs, name="frozen_resnet50"), from_logits=True)
example_inputs = image_batch("ResNet50")
