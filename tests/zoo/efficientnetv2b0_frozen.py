# Zoo: EfficientNetV2B0 partly frozen for fine-tuning: every layer before
# block6 has trainable=False; training mode, the loss a plain Python function.
# Frozen BatchNorm layers use their moving statistics; TensorFlow's tape still
# differentiates the non-trainable variables.
from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("EfficientNetV2B0")
for layer in model.layers:
    if layer.name.startswith("block6"):
        break
    layer.trainable = False
example_inputs = image_batch("EfficientNetV2B0")


def loss(x, y):
    return sparse_ce(y, model(x, training=True))
