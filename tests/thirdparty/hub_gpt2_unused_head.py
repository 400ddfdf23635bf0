# keras-hub GPT-2 (tiny random config): a language-model head learns; a value head is
# built but the loss never reads it (the classic unused head).
import keras
import keras_hub
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(1)
gpt = keras_hub.models.GPT2Backbone(vocabulary_size=40, num_layers=1, num_heads=2, hidden_dim=8,
                                    intermediate_dim=16, max_sequence_length=8, dropout=0.1)
lm_head = keras.layers.Dense(40, name="lm_head")
value_head = keras.layers.Dense(1, name="value_head")
ids = np.array([[3, 5, 7, 2, 9, 1], [4, 9, 3, 4, 2, 6]], dtype="int32")
mask = np.ones_like(ids)
value_head.build((None, 8))


@tf.function
def loss():
    h = gpt({"token_ids": ids, "padding_mask": mask}, training=True)
    logits = lm_head(h)
    return tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(ids[:, 1:], logits[:, :-1], from_logits=True))
