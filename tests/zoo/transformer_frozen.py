# Zoo: a Transformer with its embedding and lower encoder block frozen by
# tf.stop_gradient on the lower block's output, a trainable upper block and
# head, and an auxiliary head that never reaches the loss; training mode,
# `loss` tf.function. Embedding and lower block are blocked at the cut; the
# upper block (`head_block`) and `head` flow; `unused_head` is disconnected.
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, EncoderBlock, TokenAndPosition, padding_mask, seed, sparse_ce, token_batch

seed()
embed = TokenAndPosition(8, name="embed")
lower = EncoderBlock(8, name="lower")
upper = EncoderBlock(8, name="head_block")
head = layers.Dense(CLASSES, name="head")
unused_head = layers.Dense(CLASSES, name="unused_head")
example_inputs = token_batch()


@tf.function
def loss(ids, y):
    mask = padding_mask(ids)
    h = tf.stop_gradient(lower(embed(ids), attention_mask=mask, training=True))  # zoo: cut
    h = upper(h, attention_mask=mask, training=True)
    _aux = unused_head(h)
    return sparse_ce(y, head(tf.reduce_mean(h, axis=1)), from_logits=True)
