# Zoo: two Transformer encoder blocks (MHA + LayerNorm + FFN) with an explicit
# padding attention mask, first-token pooling and Dense logits, in inference
# mode under a `loss` tf.function (dropout off).
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, EncoderBlock, TokenAndPosition, padding_mask, seed, sparse_ce, token_batch

seed()
embed = TokenAndPosition(8, name="embed")
block1 = EncoderBlock(8, name="block1")
block2 = EncoderBlock(8, name="block2")
head = layers.Dense(CLASSES, name="head")
example_inputs = token_batch()


@tf.function
def loss(ids, y):
    mask = padding_mask(ids)
    h = block1(embed(ids), attention_mask=mask, training=False)
    h = block2(h, attention_mask=mask, training=False)
    return sparse_ce(y, head(h[:, 0, :]), from_logits=True)
