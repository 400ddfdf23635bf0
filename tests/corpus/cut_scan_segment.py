# Exercises: tf.scan (a While op) carrying a variable-scaled state (`gain`
# flows), and tf.math.unsorted_segment_sum whose SEGMENT IDS come from a
# variable via tf.cast (`seg_src` blocked), while its data flows (`data`).
import tensorflow as tf

gain = tf.Variable(0.8, name="gain")
seg_src = tf.Variable([0.2, 1.7, 1.1], name="seg_src")
data = tf.Variable([1.0, 2.0, 3.0], name="data")

example_inputs = (tf.constant([1.0, 2.0, 3.0]),)


@tf.function
def loss(xs):
    states = tf.scan(lambda h, x: h * gain + x, xs, initializer=tf.constant(0.0))
    seg = tf.cast(seg_src, tf.int32)
    summed = tf.math.unsorted_segment_sum(data, seg, num_segments=2)
    return tf.reduce_sum(states) + tf.reduce_sum(summed * summed)
