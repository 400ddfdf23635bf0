# Exercises: tf.compat.v1.disable_v2_behavior() (reference variables and v1
# control flow: Switch/Merge instead of If/While). `w` flows through a v1
# tf.cond; `q` only reaches the loss through tf.round (blocked); `step` is
# an int variable (no gradient).
import numpy as np
import tensorflow as tf

tf.compat.v1.disable_v2_behavior()

x = tf.compat.v1.placeholder(tf.float32, [2, 2], name="x")
w = tf.compat.v1.get_variable("w", [2, 2], initializer=tf.compat.v1.constant_initializer(0.5))
q = tf.compat.v1.get_variable("q", [2], initializer=tf.compat.v1.constant_initializer(1.7))
step = tf.compat.v1.get_variable("step", [], dtype=tf.int32, initializer=tf.compat.v1.zeros_initializer())
h = tf.cond(tf.reduce_sum(x) > -100.0, lambda: tf.matmul(x, w), lambda: tf.zeros([2, 2]))
loss = tf.reduce_sum(h) + tf.reduce_sum(tf.round(q)) + tf.cast(step, tf.float32)
train_op = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(loss)
example_feed = {x: np.ones((2, 2), np.float32)}
