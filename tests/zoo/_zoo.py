"""Shared pieces of the zoo's model files (tests/zoo/*.py; tests/test_zoo.py runs them).

Every zoo file is an ordinary gradflow model file: its folder is first on
sys.path when gradflow and the oracle import it, so ``from _zoo import ...``
works. This module builds models and inputs only; each file keeps its own loss,
its own mode (``training=True`` / ``False``) and its own cuts
(``tf.stop_gradient`` and friends stay in the model file, so that gradflow's
blockers point at the file's own lines).

Everything is small: batch 2, 3 classes, each Keras application at the smallest
input size it accepts, ``weights=None`` (nothing is downloaded).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

SEED = 0
BATCH = 2
CLASSES = 3

# The smallest square input each keras.applications model accepts with weights=None.
SIZES = {
    "ResNet50": 32,
    "ResNet50V2": 32,
    "MobileNetV2": 32,
    "MobileNetV3Small": 32,
    "DenseNet121": 32,
    "EfficientNetB0": 32,
    "EfficientNetV2B0": 32,
    "ConvNeXtTiny": 32,
    "InceptionV3": 75,
    "Xception": 71,
    "NASNetMobile": 32,
    "VGG16": 32,
}

# Sequences: token ids in [1, VOCAB), 0 is padding.
VOCAB = 16
STEPS = 6
FEATURES = 4


def seed() -> None:
    """Fix every random seed (Python, NumPy, TensorFlow, Keras)."""
    keras.utils.set_random_seed(SEED)


def application(arch: str, *, include_top: bool = True, **kwargs) -> keras.Model:
    """``keras.applications.<arch>`` with ``weights=None`` at its smallest input size.

    With ``include_top`` the classifier has CLASSES outputs (softmax unless
    ``classifier_activation=None`` is passed).
    """
    size = SIZES[arch]
    if include_top:
        kwargs.setdefault("classes", CLASSES)
    return getattr(keras.applications, arch)(
        weights=None, include_top=include_top, input_shape=(size, size, 3), **kwargs
    )


def image_batch(arch: str, batch: int = BATCH) -> tuple[tf.Tensor, tf.Tensor]:
    """(images, integer labels) for application `arch`: standard normal pixels."""
    size = SIZES[arch]
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((batch, size, size, 3)).astype("float32")
    return tf.constant(x), labels(batch)


def labels(batch: int = BATCH, classes: int = CLASSES) -> tf.Tensor:
    return tf.constant(np.arange(batch) % classes, dtype=tf.int32)


def sparse_ce(y, pred, from_logits: bool = False) -> tf.Tensor:
    """Mean sparse categorical crossentropy: the zoo's real loss."""
    return tf.reduce_mean(
        keras.losses.sparse_categorical_crossentropy(y, pred, from_logits=from_logits)
    )


def compile_classifier(model: keras.Model, from_logits: bool = False) -> keras.Model:
    """Compile `model` with sparse categorical crossentropy (the contract then uses training=True)."""
    model.compile(
        optimizer="sgd",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits),
    )
    return model


def token_batch(batch: int = BATCH, steps: int = STEPS) -> tuple[tf.Tensor, tf.Tensor]:
    """(token ids, labels): ids in [1, VOCAB), the second row right-padded with 0."""
    rng = np.random.default_rng(SEED)
    ids = rng.integers(1, VOCAB, size=(batch, steps)).astype("int32")
    ids[1:, steps - 2:] = 0
    return tf.constant(ids), labels(batch)


def sequence_batch(batch: int = BATCH, steps: int = STEPS, features: int = FEATURES):
    """(float sequences, labels)."""
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((batch, steps, features)).astype("float32")
    return tf.constant(x), labels(batch)


def padding_mask(ids) -> tf.Tensor:
    """(batch, steps, steps) attention mask: True where the key is not padding."""
    keep = tf.not_equal(ids, 0)
    return tf.logical_and(keep[:, tf.newaxis, :], tf.ones_like(keep)[:, :, tf.newaxis])


# ---------------------------------------------------------------------------
# Attention building blocks (shared by the mha_* and transformer_* files)


class TokenAndPosition(keras.layers.Layer):
    """Token embedding plus a learned position embedding; 0 is padding (masked)."""

    def __init__(self, dim: int, vocab: int = VOCAB, steps: int = STEPS, **kwargs):
        super().__init__(**kwargs)
        self.tokens = keras.layers.Embedding(vocab, dim, mask_zero=True, name="tokens")
        self.positions = keras.layers.Embedding(steps, dim, name="positions")

    def call(self, ids):
        steps = keras.ops.shape(ids)[-1]
        return self.tokens(ids) + self.positions(keras.ops.arange(steps))

    def compute_mask(self, ids, mask=None):
        return keras.ops.not_equal(ids, 0)


class EncoderBlock(keras.layers.Layer):
    """A post-norm Transformer encoder block: MHA + Dropout + LayerNorm, FFN + Dropout + LayerNorm."""

    def __init__(self, dim: int, heads: int = 2, hidden: int = 16, rate: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.attention = keras.layers.MultiHeadAttention(heads, dim // heads, dropout=rate, seed=SEED,
                                                         name="attention")
        self.drop1 = keras.layers.Dropout(rate, seed=SEED + 1)
        self.norm1 = keras.layers.LayerNormalization(name="norm1")
        self.ffn_in = keras.layers.Dense(hidden, activation="relu", name="ffn_in")
        self.ffn_out = keras.layers.Dense(dim, name="ffn_out")
        self.drop2 = keras.layers.Dropout(rate, seed=SEED + 2)
        self.norm2 = keras.layers.LayerNormalization(name="norm2")

    def call(self, x, attention_mask=None, training=None):
        a = self.attention(x, x, attention_mask=attention_mask, training=training)
        x = self.norm1(x + self.drop1(a, training=training))
        f = self.ffn_out(self.ffn_in(x))
        return self.norm2(x + self.drop2(f, training=training))
