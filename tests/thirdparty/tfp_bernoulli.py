# TensorFlow Probability: a Bernoulli sample (discrete: no gradient to its
# logits) next to a Normal reparameterized sample (the gradient flows).
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

logits = tf.Variable([0.3, -0.2, 0.1], name="logits")
loc = tf.Variable([0.5, 0.5, 0.5], name="loc")


@tf.function
def loss():
    coins = tfd.Bernoulli(logits=logits, dtype=tf.float32).sample(seed=1)
    noise = tfd.Normal(loc=loc, scale=1.0).sample(seed=2)
    return tf.reduce_sum(coins * 2.0 + noise ** 2)
