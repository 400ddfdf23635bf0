"""A Keras 2 (tf_keras) script: argparse, a frozen pretrained block, model.fit, and sys.exit(main()).

The pretrained block is frozen with layer.trainable = False (the fine-tuning
recipe); a side branch is stopped by tf.stop_gradient.
"""
import argparse
import sys

import numpy as np
import tensorflow as tf
import tf_keras as keras


def build_model():
    inputs = keras.Input((16,))
    pretrained = keras.layers.Dense(16, activation="relu", name="pretrained")
    pretrained.trainable = False
    features = pretrained(inputs)
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(features)
    gate = keras.layers.Dense(8, activation="sigmoid", name="gate")(inputs)
    gated = keras.layers.Lambda(lambda t: t[0] * tf.stop_gradient(t[1]), name="stop_gate")([hidden, gate])
    outputs = keras.layers.Dense(4, name="logits")(gated)
    return keras.Model(inputs, outputs)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    data = np.load(args.data)
    model = build_model()
    model.compile(optimizer=keras.optimizers.SGD(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(data["features"], data["labels"], batch_size=4, epochs=args.epochs, verbose=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
