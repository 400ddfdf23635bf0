# Exercises: tf.cond whose predicate is computed from a variable. `gate`
# feeds only the predicate (blocked: Greater has no gradient); `val` is used
# in both branches (flows).
import tensorflow as tf

gate = tf.Variable(0.7, name="gate")
val = tf.Variable([1.0, 2.0], name="val")


@tf.function
def loss():
    return tf.cond(gate > 0.5, lambda: tf.reduce_sum(val * 2.0), lambda: tf.reduce_sum(val))
