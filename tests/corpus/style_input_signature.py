# Exercises: a tf.function with an input_signature and no example_inputs: the
# inputs must be synthesised (unknown dims = 2, floats normal, ints zeros).
# w flows; `bucket` only meets the loss via tf.cast to int32 and back (blocked).
import tensorflow as tf

w = tf.Variable([[0.3, -0.2], [0.1, 0.4], [0.5, 0.5]], name="w")
bucket = tf.Variable([1.2, 3.7], name="bucket")


@tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32),
                              tf.TensorSpec([None], tf.int32)])
def loss(x, labels):
    logits = tf.matmul(x, w) + tf.cast(tf.cast(bucket, tf.int32), tf.float32)
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
