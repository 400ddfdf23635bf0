# Zoo: DenseNet121 partly frozen: the stem and the first dense block with its
# transition (everything up to pool2_pool) have trainable=False; the model runs
# in training mode under a `loss` tf.function. Frozen BatchNorm layers use
# their moving statistics (Keras 3), which the loss then reads; TensorFlow's
# tape differentiates the non-trainable variables too.
import tensorflow as tf

from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("DenseNet121")
cut = [layer.name for layer in model.layers].index("pool2_pool")
for layer in model.layers[: cut + 1]:
    layer.trainable = False
example_inputs = image_batch("DenseNet121")


@tf.function
def loss(x, y):
    return sparse_ce(y, model(x, training=True))
