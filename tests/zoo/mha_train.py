# Zoo: self-attention over token + position embeddings with
# keras.layers.MultiHeadAttention (2 heads, attention dropout) and an explicit
# padding attention mask, masked mean pooling and Dense logits, in training
# mode under a `loss` tf.function.
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, TokenAndPosition, padding_mask, seed, sparse_ce, token_batch

seed()
embed = TokenAndPosition(8, name="embed")
attention = layers.MultiHeadAttention(2, 4, dropout=0.1, seed=1, name="attention")
head = layers.Dense(CLASSES, name="head")
example_inputs = token_batch()


@tf.function
def loss(ids, y):
    h = embed(ids)
    h = attention(h, h, attention_mask=padding_mask(ids), training=True)
    keep = tf.cast(tf.not_equal(ids, 0), h.dtype)[:, :, tf.newaxis]
    pooled = tf.reduce_sum(h * keep, axis=1) / tf.reduce_sum(keep, axis=1)
    return sparse_ce(y, head(pooled), from_logits=True)
