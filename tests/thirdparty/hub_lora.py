# keras-hub BERT backbone (tiny random config) with LoRA: the base kernels are
# frozen by enable_lora (not trainable), lora_kernel_b starts at zero, so
# lora_kernel_a's gradient is all zero at step 0 (a MatMul with lora_kernel_b).
import keras
import keras_hub
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(0)
backbone = keras_hub.models.BertBackbone(
    vocabulary_size=50, num_layers=1, num_heads=2, hidden_dim=8,
    intermediate_dim=16, max_sequence_length=8, dropout=0.0)
backbone.enable_lora(rank=2)
head = keras.layers.Dense(1, name="head")
ids = np.array([[1, 5, 7, 2, 0, 0], [1, 9, 3, 4, 2, 0]], dtype="int32")
example_inputs = ({"token_ids": ids, "segment_ids": np.zeros_like(ids),
                   "padding_mask": (ids != 0).astype("int32")},)


@tf.function
def loss(batch):
    out = backbone(batch, training=True)
    return tf.reduce_mean(tf.square(head(out["pooled_output"]) - 1.0))
