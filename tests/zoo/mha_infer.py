# Zoo: causal cross-attention with keras.layers.MultiHeadAttention: queries
# from float sequences, keys/values from a second (projected) sequence,
# use_causal_mask=True, attention dropout; inference mode under a `loss`
# tf.function. The attention scores are returned too and feed an entropy term.
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, seed, sequence_batch, sparse_ce

seed()
memory_proj = layers.Dense(8, name="memory_proj")
attention = layers.MultiHeadAttention(2, 4, value_dim=3, dropout=0.1, seed=1, name="attention")
head = layers.Dense(CLASSES, name="head")
queries, labels = sequence_batch()
memory, _ = sequence_batch(steps=6, features=5)
example_inputs = (queries, memory, labels)


@tf.function
def loss(q, m, y):
    out, scores = attention(q, memory_proj(m), use_causal_mask=True,
                            return_attention_scores=True, training=False)
    entropy = -tf.reduce_mean(tf.reduce_sum(scores * tf.math.log(scores + 1e-6), axis=-1))
    return sparse_ce(y, head(tf.reduce_mean(out, axis=1)), from_logits=True) + 0.1 * entropy
