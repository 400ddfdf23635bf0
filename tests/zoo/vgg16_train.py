# Zoo: keras.applications.VGG16 (its 4096-wide dense top included) in
# training mode, wrapped in a subclassed keras.Model, under a `loss`
# tf.function.
import keras
import tensorflow as tf

from _zoo import application, image_batch, seed, sparse_ce


class Wrapper(keras.Model):
    def __init__(self):
        super().__init__(name="vgg16_wrapper")
        self.net = application("VGG16", classifier_activation=None)

    def call(self, x, training=None):
        return self.net(x, training=training)


seed()
model = Wrapper()
example_inputs = image_batch("VGG16")


@tf.function
def loss(x, y):
    return sparse_ce(y, model(x, training=True), from_logits=True)
