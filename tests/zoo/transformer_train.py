# Zoo: a small Transformer encoder (token + position embedding with a padding
# mask, one post-norm block: MultiHeadAttention + Dropout + LayerNorm, ReLU
# FFN + Dropout + LayerNorm), masked average pooling and Dense logits, as a
# compiled functional model: training=True. Keras propagates the Embedding's
# padding mask into the attention.
import keras
from keras import layers

from _zoo import CLASSES, STEPS, EncoderBlock, TokenAndPosition, compile_classifier, seed, token_batch

seed()
ids = keras.Input((STEPS,), dtype="int32")
h = TokenAndPosition(8, name="embed")(ids)
h = EncoderBlock(8, name="block")(h)
h = layers.GlobalAveragePooling1D()(h)
outputs = layers.Dense(CLASSES, name="head")(h)
model = compile_classifier(keras.Model(ids, outputs, name="transformer"), from_logits=True)
example_inputs = token_batch()
