# Zoo: ResNet50V2 partly frozen: every layer up to the end of conv3 has
# trainable=False, the rest trains; a compiled keras.Model (training=True).
# Frozen BatchNorm layers run in inference mode (Keras 3), so their moving
# statistics are read by the loss. The frozen weights are non-trainable
# variables, yet TensorFlow's tape still differentiates them when watched.
from _zoo import application, compile_classifier, image_batch, seed

seed()
model = application("ResNet50V2")
cut = [layer.name for layer in model.layers].index("conv3_block4_out")
for layer in model.layers[: cut + 1]:
    layer.trainable = False
model = compile_classifier(model)
example_inputs = image_batch("ResNet50V2")
