"""absl flags, a tf.data pipeline and a keras.Model subclass whose train_step calls self.optimizer.apply_gradients.

The shape of many published Keras 3 examples: `app.run(main)`, a custom
train_step with `self.compute_loss`, and metrics updated by hand. The model
keeps a projection head for a contrastive loss that this loss never uses.
"""
import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("data", None, "npz file with features and labels")
flags.DEFINE_integer("epochs", 3, "epochs")
flags.DEFINE_integer("batch_size", 4, "batch size")


class Classifier(keras.Model):
    def __init__(self, classes, **kwargs):
        super().__init__(**kwargs)
        self.encoder = keras.layers.Dense(16, activation="relu", name="encoder")
        self.classifier = keras.layers.Dense(classes, name="classifier")
        self.projection = keras.layers.Dense(8, name="projection")
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, x, training=False):
        return self.classifier(self.encoder(x))

    def build(self, input_shape):
        self.encoder.build(input_shape)
        self.classifier.build((None, 16))
        self.projection.build((None, 16))

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            logits = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=logits)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(
            [(g, v) for g, v in zip(gradients, self.trainable_variables) if g is not None])
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker]


def make_dataset(path, batch_size):
    data = np.load(path)
    ds = tf.data.Dataset.from_tensor_slices((data["features"], data["labels"]))
    return ds.shuffle(64, seed=0).map(lambda x, y: (tf.cast(x, tf.float32) / 4.0, y)).batch(batch_size).prefetch(2)


def main(argv):
    del argv
    model = Classifier(classes=4)
    model.build((None, 16))
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(make_dataset(FLAGS.data, FLAGS.batch_size), epochs=FLAGS.epochs, verbose=2)


if __name__ == "__main__":
    flags.mark_flag_as_required("data")
    app.run(main)
