# Zoo: a compiled Sequential LSTM classifier over padded token ids: Embedding
# with mask_zero (the padding mask reaches the LSTM), LSTM with input and
# recurrent dropout (Keras' generic while_loop implementation, not cuDNN),
# Dense logits. The contract runs compiled models with training=True.
import keras
from keras import layers

from _zoo import CLASSES, STEPS, VOCAB, compile_classifier, seed, token_batch

seed()
model = keras.Sequential([
    keras.Input((STEPS,), dtype="int32"),
    layers.Embedding(VOCAB, 8, mask_zero=True, name="embed"),
    layers.LSTM(8, dropout=0.2, recurrent_dropout=0.2, seed=1, name="lstm"),
    layers.Dense(CLASSES, name="head"),
], name="lstm_classifier")
model = compile_classifier(model, from_logits=True)
example_inputs = token_batch()
