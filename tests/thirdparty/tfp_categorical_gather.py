# TensorFlow Probability: an index sampled from a Categorical picks embedding rows; the
# sample has no gradient, so the logits get none, while the table learns.
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions
logits = tf.Variable(tf.zeros([4]), name="logits")
table = tf.Variable(tf.random.stateless_normal([4, 3], seed=[1, 2]), name="table")


@tf.function
def loss():
    idx = tfd.Categorical(logits=logits).sample(8, seed=[3, 4])
    emb = tf.gather(table, idx)
    return tf.reduce_sum(emb ** 2)
