"""A GAN trained with train_on_batch and a frozen discriminator inside the combined model (Keras 3).

The classic Keras GAN recipe: the discriminator is compiled on its own, then
frozen (trainable = False) before the combined model is compiled, so the
combined model's train_on_batch updates the generator only.
"""
import sys

import keras
import numpy as np
from keras import layers


def build(latent_dim=8):
    generator = keras.Sequential([keras.Input((latent_dim,)), layers.Dense(16, activation="relu"),
                                  layers.Dense(16)], name="generator")
    discriminator = keras.Sequential([keras.Input((16,)), layers.Dense(8, activation="relu"),
                                      layers.Dense(1, activation="sigmoid")], name="discriminator")
    discriminator.compile(optimizer="adam", loss="binary_crossentropy")
    discriminator.trainable = False
    z = keras.Input((latent_dim,))
    combined = keras.Model(z, discriminator(generator(z)), name="combined")
    combined.compile(optimizer="adam", loss="binary_crossentropy")
    return generator, discriminator, combined


def main(path, steps=5, batch=8, latent_dim=8):
    real = np.load(path)["features"]
    generator, discriminator, combined = build(latent_dim)
    rng = np.random.default_rng(0)
    for step in range(steps):
        noise = rng.normal(size=(batch, latent_dim)).astype("float32")
        fake = generator.predict(noise, verbose=0)
        idx = rng.integers(0, len(real), batch)
        x = np.concatenate([real[idx], fake])
        y = np.concatenate([np.ones((batch, 1)), np.zeros((batch, 1))]).astype("float32")
        discriminator.trainable = True
        d_loss = discriminator.train_on_batch(x, y)
        discriminator.trainable = False
        g_loss = combined.train_on_batch(noise, np.ones((batch, 1), "float32"))
        print(f"step {step}: d {float(d_loss):.3f} g {float(g_loss):.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
