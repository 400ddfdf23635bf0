# Zoo: keras.applications.DenseNet121 in inference mode; the target is a
# tf.Module whose __call__ is a tf.function, and the inputs are keyword
# arguments (a dict `example_inputs`).
import tensorflow as tf

from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("DenseNet121")
images, targets = image_batch("DenseNet121")
example_inputs = {"images": images, "targets": targets}


class Objective(tf.Module):
    def __init__(self, net):
        super().__init__(name="objective")
        self.net = net

    @tf.function
    def __call__(self, images, targets):
        return sparse_ce(targets, self.net(images, training=False))


loss = Objective(model)
