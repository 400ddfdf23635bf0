# Exercises: a tf.cond nested inside a tf.while_loop body, and a variable that
# enters the loop only as the initial value of a loop variable, after a cut.
# `w` flows through the cond's taken branch; `init` goes through tf.round
# before becoming the loop variable's initial value (blocked: the cut is
# outside the loop); `alt` is only in the cond's untaken branch.
import tensorflow as tf

w = tf.Variable(0.5, name="w")
init = tf.Variable(1.3, name="init")
alt = tf.Variable(2.0, name="alt")


@tf.function
def loss():
    def body(i, h):
        h = tf.cond(i >= 0, lambda: h * w + 1.0, lambda: h * alt)
        return i + 1, h

    _, out = tf.while_loop(lambda i, h: i < 3, body, (tf.constant(0), tf.round(init)))
    return out * out
