# TF1 train_op with hand-written decoupled weight decay: after the gradient
# step, every trainable variable is shrunk by 1%. w2 is blocked by
# tf.stop_gradient, so the loss never moves it, yet the decay does.
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_eager_execution()

x = tf.placeholder(tf.float32, shape=[None, 3], name="x")
w1 = tf.get_variable("w1", shape=[3, 1], initializer=tf.constant_initializer([0.5, -0.2, 0.1]))
w2 = tf.get_variable("w2", shape=[3, 1], initializer=tf.constant_initializer([1.0, 2.0, -1.0]))
loss = tf.reduce_mean(tf.square(tf.matmul(x, w1) - tf.stop_gradient(tf.matmul(x, w2))))

optimizer = tf.train.GradientDescentOptimizer(0.1)
step = optimizer.apply_gradients(optimizer.compute_gradients(loss))
with tf.control_dependencies([step]):
    train_op = tf.group(*[v.assign(v * 0.99, name="weight_decay").op for v in tf.trainable_variables()])

example_feed = {x: np.eye(3, dtype=np.float32)}
