# Exercises: the module attribute `variables` (a list) replaces the
# module-level search. `listed_unused` is listed and unread (disconnected);
# `hidden` is not listed and not read, so it must NOT be reported. `a` flows.
import tensorflow as tf

a = tf.Variable([1.0, 2.0], name="a")
listed_unused = tf.Variable([0.0], name="listed_unused")
hidden = tf.Variable([9.0], name="hidden")

variables = [a, listed_unused]


def loss():
    return tf.reduce_sum(a * a)
