# Exercises: a non-trainable float variable that the loss does read: TF's
# autodiff (with the variable watched) gives it a gradient, so it `flows`
# (its "trainable" flag is false). `frozen_unused` is non-trainable and unread.
import tensorflow as tf

weights = tf.Variable([1.0, -1.0], name="weights")
temperature = tf.Variable(2.0, trainable=False, name="temperature")
frozen_unused = tf.Variable([0.0], trainable=False, name="frozen_unused")


@tf.function
def loss():
    return tf.reduce_sum(tf.nn.softmax(weights / temperature) * tf.constant([1.0, 3.0]))
