"""TF1 session script in the compute_gradients style of the seed: one weight is behind stop_gradient."""
import sys

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()
data = np.load(sys.argv[1])
features, labels = data["features"], data["labels"]

x = tf.placeholder(tf.float32, [None, 16], name="x")
y = tf.placeholder(tf.int64, [None], name="y")
w1 = tf.get_variable("w1", [16, 8])
b1 = tf.get_variable("b1", [8], initializer=tf.zeros_initializer())
w2 = tf.get_variable("w2", [8, 4])
scale = tf.get_variable("scale", [], initializer=tf.ones_initializer())
hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
logits = tf.matmul(hidden, w2) * tf.stop_gradient(scale)
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
optimizer = tf.train.GradientDescentOptimizer(0.1)
grads_and_vars = optimizer.compute_gradients(loss)
train_op = optimizer.apply_gradients([(g, v) for g, v in grads_and_vars if g is not None])

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(5):
        _, value = sess.run([train_op, loss], feed_dict={x: features, y: labels})
        print(step, value)
