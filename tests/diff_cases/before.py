"""gradflow diff test case: the model before a change (every variable learns)."""
import tensorflow as tf

encoder = tf.Variable(tf.fill([4, 3], 0.5), name="encoder")
proj = tf.Variable(tf.eye(3), name="proj")
head = tf.Variable(tf.fill([3, 1], 0.5), name="head")
aux = tf.Variable(tf.fill([3, 1], 0.25), name="aux")
extra = tf.Variable(tf.fill([3, 1], 0.1), name="extra")

example_inputs = (tf.reshape(tf.range(8, dtype=tf.float32), [2, 4]) / 8.0,)


@tf.function
def loss(x):
    h = tf.tanh(x @ encoder) @ proj
    main = tf.reduce_sum(h @ head)
    side = tf.reduce_sum(h @ aux)
    return main + 0.5 * side + tf.reduce_sum(h @ extra)
