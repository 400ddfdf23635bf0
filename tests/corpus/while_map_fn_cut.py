# Exercises: tf.map_fn (a While op under the hood) whose per-element function
# holds a cut. `scale` flows through every element; `pick` is used only via
# tf.argmax inside the mapped function; `shift` only under tf.stop_gradient
# inside it. The oracle decides whether TF gives them None or zeros (while_v2
# turns a captured input's None into zeros).
import tensorflow as tf

scale = tf.Variable(1.5, name="scale")
pick = tf.Variable([0.2, 0.8, 0.1], name="pick")
shift = tf.Variable(0.3, name="shift")

example_inputs = (tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),)


@tf.function
def loss(rows):
    def per_row(r):
        return tf.reduce_sum(r * scale) + tf.gather(r, tf.argmax(pick)) + tf.stop_gradient(shift)

    return tf.reduce_sum(tf.map_fn(per_row, rows))
