"""The canonical example in the classic TF1 style (tensorflow.compat.v1).

    loss = mean(square(x @ w1 - stop_gradient(x @ (w2 * w3))))
"""
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()

x = tf.placeholder(tf.float32, shape=[None, 5], name="x")
w1 = tf.get_variable("w1", shape=[5, 1], initializer=tf.random_normal_initializer(seed=2))
w2 = tf.get_variable("w2", shape=[5, 1], initializer=tf.random_normal_initializer(seed=3))
w3 = tf.get_variable("w3", shape=[5, 1], initializer=tf.random_normal_initializer(seed=4))
loss = tf.reduce_mean(tf.square(tf.matmul(x, w1) - tf.stop_gradient(tf.matmul(x, w2 * w3))))

optimizer = tf.train.GradientDescentOptimizer(0.1)
grads_and_vars = optimizer.compute_gradients(loss)
train_op = optimizer.apply_gradients(grads_and_vars)

example_feed = {x: np.random.default_rng(1).standard_normal((8, 5)).astype(np.float32)}
# `gradflow train` draws this beside the variables: w1 converges onto it.
train_watch = {"w2 * w3": w2 * w3}
