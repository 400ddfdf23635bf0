# Zoo: VGG16 frozen up to block3: the layers are applied one by one in a
# `loss` tf.function, and tf.stop_gradient cuts the block3_pool output. Blocks
# 1-3 are read by the loss and blocked at the cut; blocks 4-5 and the dense
# top flow.
import tensorflow as tf

from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("VGG16")
example_inputs = image_batch("VGG16")


@tf.function
def loss(x, y):
    h = x
    for layer in model.layers[1:]:
        h = layer(h, training=True)
        if layer.name == "block3_pool":
            h = tf.stop_gradient(h)  # zoo: cut
    return sparse_ce(y, h)
