# Zoo: truncated backpropagation through time inside a keras.layers.RNN: a
# custom cell cuts the carried state with tf.stop_gradient before using it, so
# the cut sits inside the tf.while_loop body that Keras builds. The input and
# recurrent kernels still learn (each step's own use of them is not cut). A
# trainable initial state only ever enters through the carried state, so every
# path from it dies at the cut inside the loop body; yet TensorFlow's gradient
# of a tf.while_loop input is a zero tensor, not None, so it is `zero`
# (connected, numerically dead), not `blocked`.
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
rnn = layers.RNN(TruncatedCell(6, name="cell"), name="rnn")
rnn.build((None, None, FEATURES))
initial_state = keras.Variable(tf.fill((1, 6), 0.5), name="initial_state")
head = layers.Dense(CLASSES, name="head")
example_inputs = sequence_batch()


@tf.function
def loss(x, y):
    h0 = tf.tile(initial_state, [tf.shape(x)[0], 1])
    return sparse_ce(y, head(rnn(x, initial_state=[h0])), from_logits=True)
