# Exercises: a loss that updates a variable (assign_add) and then reads it:
# the later read is still a differentiable read of the variable (`acc`
# flows). `counter_f` is only assigned to, its value read into the assign
# result that is never used (no gradient).
import tensorflow as tf

acc = tf.Variable([1.0, 2.0], name="acc")
counter_f = tf.Variable(0.0, name="counter_f")


@tf.function
def loss():
    acc.assign_add([0.5, 0.5])
    counter_f.assign_add(1.0)
    return tf.reduce_sum(acc * acc)
