# Exercises: two variables with the same name "w" -> reported as "w" and
# "w#2". The first flows, the second is blocked by tf.stop_gradient. (The
# comparison tolerates either numbering order by comparing the group as a
# multiset.)
import tensorflow as tf

first = tf.Variable([1.0, 2.0], name="w")
second = tf.Variable([3.0, 4.0], name="w")


@tf.function
def loss():
    return tf.reduce_sum(first * tf.stop_gradient(second))
