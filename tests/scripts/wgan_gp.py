"""WGAN-GP: the gradient penalty is a nested tape inside the critic's tape (a custom tf.function loop)."""
import sys

import numpy as np
import tensorflow as tf

data = np.load(sys.argv[1])["images"].reshape(-1, 64).astype("float32")
critic = tf.keras.Sequential([tf.keras.Input((64,)), tf.keras.layers.Dense(16, activation="relu"),
                              tf.keras.layers.Dense(1)])
generator = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(64)])
c_opt = tf.keras.optimizers.Adam(1e-4)
g_opt = tf.keras.optimizers.Adam(1e-4)


def gradient_penalty(real, fake):
    alpha = tf.random.uniform([tf.shape(real)[0], 1])
    interpolated = real + alpha * (fake - real)
    with tf.GradientTape() as gp_tape:
        gp_tape.watch(interpolated)
        pred = critic(interpolated, training=True)
    grads = gp_tape.gradient(pred, [interpolated])[0]
    norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=1))
    return tf.reduce_mean((norm - 1.0) ** 2)


@tf.function
def train_critic(real):
    z = tf.random.normal([tf.shape(real)[0], 4])
    with tf.GradientTape() as tape:
        fake = generator(z, training=True)
        loss = tf.reduce_mean(critic(fake)) - tf.reduce_mean(critic(real)) + 10.0 * gradient_penalty(real, fake)
    grads = tape.gradient(loss, critic.trainable_variables)
    c_opt.apply_gradients(zip(grads, critic.trainable_variables))
    return loss


@tf.function
def train_generator(batch_size):
    z = tf.random.normal([batch_size, 4])
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(critic(generator(z, training=True)))
    grads = tape.gradient(loss, generator.trainable_variables)
    g_opt.apply_gradients(zip(grads, generator.trainable_variables))
    return loss


dataset = tf.data.Dataset.from_tensor_slices(data).batch(8)
for epoch in range(3):
    for real in dataset:
        train_critic(real)
        train_generator(8)
print("done")
