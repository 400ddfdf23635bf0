"""SimSiam: symmetric negative cosine loss with stop_gradient on the projector side (eager loop)."""
import sys

import numpy as np
import tensorflow as tf

images = np.load(sys.argv[1])["images"].reshape(-1, 64).astype("float32")
encoder = tf.keras.Sequential([tf.keras.Input((64,)), tf.keras.layers.Dense(16, activation="relu"),
                               tf.keras.layers.Dense(8)], name="encoder")
predictor = tf.keras.Sequential([tf.keras.Input((8,)), tf.keras.layers.Dense(4, activation="relu"),
                                 tf.keras.layers.Dense(8)], name="predictor")
optimizer = tf.keras.optimizers.SGD(0.01)


def augment(x):
    return x + tf.random.normal(tf.shape(x), stddev=0.1)


def negative_cosine(p, z):
    z = tf.stop_gradient(z)
    p = tf.math.l2_normalize(p, axis=1)
    z = tf.math.l2_normalize(z, axis=1)
    return -tf.reduce_mean(tf.reduce_sum(p * z, axis=1))


for epoch in range(2):
    for batch in tf.data.Dataset.from_tensor_slices(images).batch(8):
        with tf.GradientTape() as tape:
            z1, z2 = encoder(augment(batch)), encoder(augment(batch))
            p1, p2 = predictor(z1), predictor(z2)
            loss = negative_cosine(p1, z2) / 2 + negative_cosine(p2, z1) / 2
        variables = encoder.trainable_variables + predictor.trainable_variables
        grads = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(grads, variables))
print("loss", float(loss))
