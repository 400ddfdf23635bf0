# Exercises: TF1 graph style (disable_eager_execution) with several cut kinds
# on graph tensors: tf.floor (`fl` blocked), tf.cast to int32 (`ci`
# blocked), tf.sign (`sg` zero), a dead ReLU (`dead` zero) and a flowing
# hand-written dense layer under a variable_scope (`dense/kernel`,
# `dense/bias`).
import numpy as np
import tensorflow as tf

tf.compat.v1.disable_eager_execution()

x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")
with tf.compat.v1.variable_scope("dense"):
    kernel = tf.compat.v1.get_variable("kernel", [3, 2], initializer=tf.compat.v1.glorot_uniform_initializer(seed=0))
    bias = tf.compat.v1.get_variable("bias", [2], initializer=tf.compat.v1.zeros_initializer())
fl = tf.compat.v1.get_variable("fl", [2], initializer=tf.compat.v1.constant_initializer(1.5))
ci = tf.compat.v1.get_variable("ci", [2], initializer=tf.compat.v1.constant_initializer(2.5))
sg = tf.compat.v1.get_variable("sg", [2], initializer=tf.compat.v1.constant_initializer(-0.5))
dead = tf.compat.v1.get_variable("dead", [2], initializer=tf.compat.v1.constant_initializer(-50.0))

h = tf.matmul(x, kernel) + bias
h = h * tf.floor(fl) + tf.cast(tf.cast(ci, tf.int32), tf.float32) + tf.sign(sg) + tf.nn.relu(dead)
loss = tf.reduce_mean(tf.square(h))
train_op = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(loss)
example_feed = {x: np.arange(6, dtype=np.float32).reshape(2, 3) / 5.0}
