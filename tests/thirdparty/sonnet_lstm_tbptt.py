# Sonnet LSTM trained with truncated backpropagation through time: the user's
# stop_gradient on the carried state cuts some paths of every weight, never all of them.
import sonnet as snt
import tensorflow as tf

tf.random.set_seed(0)
core = snt.LSTM(6, name="lstm")
readout = snt.Linear(1, name="readout")
xs = tf.random.stateless_normal([10, 3, 4], seed=[1, 1])


@tf.function
def loss():
    state = core.initial_state(3)
    total = 0.0
    for chunk in (xs[:5], xs[5:]):
        state = tf.nest.map_structure(tf.stop_gradient, state)  # truncated BPTT
        out, state = snt.static_unroll(core, chunk, state)
        total += tf.reduce_mean(tf.square(readout(out[-1])))
    return total
