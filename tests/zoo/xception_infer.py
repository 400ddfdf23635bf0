# Zoo: keras.applications.Xception at 71x71 in inference mode, the loss a
# plain Python function.
from _zoo import application, image_batch, seed, sparse_ce

seed()
model = application("Xception", classifier_activation=None)
example_inputs = image_batch("Xception")


def loss(x, y):
    return sparse_ce(y, model(x, training=False), from_logits=True)
