# The canonical example in TF1 style, without a train_op: `gradflow train`
# builds a tf.compat.v1.train optimizer itself. w1 learns until it equals
# w2 * w3 (watched); w2 and w3 sit behind tf.stop_gradient and never move.
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()

x = tf.placeholder(tf.float32, shape=[None, 5], name="x")
w1 = tf.get_variable("w1", shape=[5, 1], initializer=tf.random_normal_initializer(seed=2))
w2 = tf.get_variable("w2", shape=[5, 1], initializer=tf.random_normal_initializer(seed=3))
w3 = tf.get_variable("w3", shape=[5, 1], initializer=tf.random_normal_initializer(seed=4))
loss = tf.reduce_mean(tf.square(tf.matmul(x, w1) - tf.stop_gradient(tf.matmul(x, w2 * w3))))

# Orthogonal columns scaled so that x^T x / 8 = I: plain SGD converges fast.
q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((8, 5)))
example_feed = {x: (q * np.sqrt(8.0)).astype(np.float32)}
train_watch = {"w2 * w3": w2 * w3}
