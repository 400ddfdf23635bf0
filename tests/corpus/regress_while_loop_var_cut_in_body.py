# Regression (found by tests/test_fuzz_control.py): a tf.while_loop body that
# cuts its loop variable (here tf.stop_gradient) or ignores it. TensorFlow's
# while_v2 gradient zero-fills the gradient of a loop input whose result gets a
# gradient, so `w0` (the loop variable's initial value) gets a tensor of zeros:
# its verdict is `zero`, not None. `w1` flows through the body.
import tensorflow as tf

w0 = tf.Variable(0.5, name="w0")
w1 = tf.Variable(0.5, name="w1")


@tf.function
def loss():
    return tf.while_loop(lambda i, a: i < 2, lambda i, a: (i + 1, tf.stop_gradient(a) * w1), (0, w0 * 1.0))[1]
