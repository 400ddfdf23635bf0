# Exercises: classic TF1 graph style (disable_eager_execution, placeholders,
# get_variable, GradientDescentOptimizer) with an explicit `example_feed`.
# w and b flow; `frozen` is used only through tf.stop_gradient (blocked).
import numpy as np
import tensorflow as tf

tf.compat.v1.disable_eager_execution()

x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")
y = tf.compat.v1.placeholder(tf.float32, [None, 1], name="y")
w = tf.compat.v1.get_variable("w", [3, 1], initializer=tf.compat.v1.constant_initializer(0.1))
b = tf.compat.v1.get_variable("b", [1], initializer=tf.compat.v1.zeros_initializer())
frozen = tf.compat.v1.get_variable("frozen", [1], initializer=tf.compat.v1.constant_initializer(2.0))
pred = tf.matmul(x, w) + b + tf.stop_gradient(frozen)
loss = tf.reduce_mean(tf.square(pred - y))
train_op = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(loss)

rng = np.random.default_rng(0)
example_feed = {x: rng.standard_normal((4, 3)).astype(np.float32),
                y: rng.standard_normal((4, 1)).astype(np.float32)}
