# Exercises: a module-level variable the loss never reads (disconnected), and
# one read inside the function but whose value is discarded (also no path).
import tensorflow as tf

used = tf.Variable([1.0, 2.0], name="used")
never_read = tf.Variable([5.0], name="never_read")
read_discarded = tf.Variable([7.0], name="read_discarded")


@tf.function
def loss():
    _ = read_discarded * 2.0  # computed, never used
    return tf.reduce_sum(used * used)
