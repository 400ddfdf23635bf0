# Exercises: tf.cond where a variable is used in only one branch.
# `taken` is used only in the branch that runs (flows); `untaken` is used
# only in the branch that does not run -- in a traced cond its gradient is a
# tensor of zeros (zero), not None. `both_stopped` is used in both branches,
# always under tf.stop_gradient (blocked).
import tensorflow as tf

taken = tf.Variable([1.0, 2.0], name="taken")
untaken = tf.Variable([3.0, 4.0], name="untaken")
both_stopped = tf.Variable([0.1, 0.1], name="both_stopped")

example_inputs = (tf.constant([1.0, -0.5]),)


@tf.function
def loss(x):
    out = tf.cond(tf.reduce_sum(x) > 0.0,
                  lambda: taken * x + tf.stop_gradient(both_stopped),
                  lambda: untaken * x - tf.stop_gradient(both_stopped))
    return tf.reduce_sum(out)
