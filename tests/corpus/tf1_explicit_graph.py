# Exercises: a TF1-style graph built inside `with tf.Graph().as_default()`
# WITHOUT disabling eager execution globally; the target `loss` is a
# symbolic tensor of that graph. `w` flows; `sel` only feeds tf.argmax
# (blocked); placeholders are synthesised (no example_feed).
import tensorflow as tf

graph = tf.Graph()
with graph.as_default():
    x = tf.compat.v1.placeholder(tf.float32, [None, 2], name="x")
    w = tf.compat.v1.get_variable("w", [2, 2], initializer=tf.compat.v1.constant_initializer(0.5))
    sel = tf.compat.v1.get_variable("sel", [2], initializer=tf.compat.v1.constant_initializer([0.1, 0.2]))
    h = tf.matmul(x, w)
    loss = tf.reduce_sum(tf.gather(h, tf.argmax(sel), axis=1) ** 2)
    train_op = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(loss)
