# Exercises: tf.gather on a variable -> an IndexedSlices gradient (convert to
# dense for numerics). `emb` flows (only some rows touched); `idx_src` only
# produces the gather indices via argmax (blocked).
import tensorflow as tf

emb = tf.Variable(tf.reshape(tf.range(12, dtype=tf.float32), [4, 3]) / 10.0, name="emb")
idx_src = tf.Variable([[0.1, 0.9, 0.0, 0.0], [0.0, 0.0, 0.0, 0.7]], name="idx_src")

example_inputs = (tf.constant([0, 2, 2]),)


@tf.function
def loss(ids):
    picked = tf.gather(emb, ids)
    picked2 = tf.gather(emb, tf.argmax(idx_src, axis=1))
    return tf.reduce_sum(tf.square(picked)) + tf.reduce_sum(picked2)
