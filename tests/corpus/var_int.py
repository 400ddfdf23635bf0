# Exercises: integer variables. `counter` (int32) and `step` (int64) are read
# by the loss but cannot have a gradient; `w` flows.
import tensorflow as tf

counter = tf.Variable(3, dtype=tf.int32, name="counter")
step = tf.Variable(7, dtype=tf.int64, name="step")
w = tf.Variable([0.5, 1.5], name="w")


@tf.function
def loss():
    c = tf.cast(counter, tf.float32) + tf.cast(step, tf.float32)
    return tf.reduce_sum(w * w) * c
