# Zoo: keras.applications.ResNet50V2 in inference mode, the loss a plain Python
# function (gradflow and the oracle wrap it in tf.function): the moving
# statistics are read and get a gradient.
from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("ResNet50V2")
example_inputs = image_batch("ResNet50V2")


def loss(x, y):
    return sparse_ce(y, model(x, training=False))
