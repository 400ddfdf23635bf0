# Exercises: tf.where whose condition is computed from a variable. `thresh`
# only feeds the condition (blocked: Greater has no gradient). `left` is the
# selected branch everywhere (flows); `right` is never selected, so its
# gradient is a tensor of zeros (zero).
import tensorflow as tf

thresh = tf.Variable([-10.0, -10.0, -10.0], name="thresh")
left = tf.Variable([1.0, 2.0, 3.0], name="left")
right = tf.Variable([4.0, 5.0, 6.0], name="right")

example_inputs = (tf.constant([0.5, 1.0, 1.5]),)


@tf.function
def loss(x):
    return tf.reduce_sum(tf.where(x > thresh, left * x, right * x))
