# Zoo: cross-attention into a frozen memory encoder: the memory's Dense
# encoder output is cut by tf.stop_gradient, then a trainable
# MultiHeadAttention reads it (training mode, `loss` tf.function). A second
# attention layer only contributes its attention *scores*, which never depend
# on its value or output projections. The memory encoder is blocked at the
# cut; `head`, `attention` and the second layer's query/key projections flow;
# its value and output projections get no gradient; `unused_head` is never
# read by the loss.
# zoo: unread scores_only/value/ scores_only/attention_output/
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, seed, sequence_batch, sparse_ce

seed()
memory_encoder = layers.Dense(8, activation="tanh", name="memory_encoder")
attention = layers.MultiHeadAttention(2, 4, dropout=0.1, seed=1, name="attention")
scores_only = layers.MultiHeadAttention(2, 4, name="scores_only")
head = layers.Dense(CLASSES, name="head")
unused_head = layers.Dense(2, name="unused_head")
queries, labels = sequence_batch()
memory, _ = sequence_batch(steps=5, features=6)
example_inputs = (queries, memory, labels)


@tf.function
def loss(q, m, y):
    frozen_memory = tf.stop_gradient(memory_encoder(m))  # zoo: cut
    out = attention(q, frozen_memory, training=True)
    _unused, scores = scores_only(q, out, return_attention_scores=True)
    _aux = unused_head(out)
    spread = tf.reduce_mean(tf.square(scores - 1.0 / 6.0))
    return sparse_ce(y, head(tf.reduce_mean(out, axis=1)), from_logits=True) + spread
