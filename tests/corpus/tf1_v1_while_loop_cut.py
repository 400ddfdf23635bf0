# Exercises: TF1 graph with v1 control flow (disable_v2_behavior): a
# tf.while_loop whose body uses `a` normally and `c` through tf.stop_gradient.
# a flows; c is blocked.
import tensorflow as tf

tf.compat.v1.disable_v2_behavior()

a = tf.compat.v1.get_variable("a", [], initializer=tf.compat.v1.constant_initializer(0.9))
c = tf.compat.v1.get_variable("c", [], initializer=tf.compat.v1.constant_initializer(0.3))
x = tf.compat.v1.placeholder(tf.float32, [], name="x")


def body(i, h):
    return i + 1, h * a + tf.stop_gradient(c)


_, out = tf.compat.v1.while_loop(lambda i, h: i < 3, body, [tf.constant(0), x])
loss = tf.square(out)
train_op = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(loss)
example_feed = {x: 1.5}
