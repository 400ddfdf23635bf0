# Zoo: the truncated-BPTT cell of rnn_truncated_frozen.py in an *unrolled*
# keras.layers.RNN (unroll=True: one copy of the cell per step, no
# tf.while_loop). Now the trainable initial state's only path to the loss dies
# at the first step's tf.stop_gradient, and TensorFlow's gradient for it is
# None: it is read by the loss and blocked at the cut. The kernels learn.
import keras
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, FEATURES, seed, sequence_batch, sparse_ce


class TruncatedCell(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units
        self.output_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel")

    def call(self, inputs, states):
        carried = tf.stop_gradient(states[0])  # zoo: cut
        h = tf.tanh(tf.matmul(inputs, self.kernel) + tf.matmul(carried, self.recurrent_kernel))
        return h, [h]


seed()
rnn = layers.RNN(TruncatedCell(6, name="cell"), unroll=True, name="rnn")
rnn.build((None, None, FEATURES))
initial_state = keras.Variable(tf.fill((1, 6), 0.5), name="initial_state")
head = layers.Dense(CLASSES, name="head")
example_inputs = sequence_batch()


@tf.function
def loss(x, y):
    h0 = tf.tile(initial_state, [tf.shape(x)[0], 1])
    return sparse_ce(y, head(rnn(x, initial_state=[h0])), from_logits=True)
