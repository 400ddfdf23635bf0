# TensorFlow Probability: a Poisson sample (discrete, many internal ops, no
# gradient to its rate), and a reparameterized LogNormal built with a bijector
# (tfb.Exp over a Normal): its loc and scale learn.
import tensorflow as tf
import tensorflow_probability as tfp

tfd, tfb = tfp.distributions, tfp.bijectors

log_rate = tf.Variable([0.5, 1.0], name="log_rate")
loc = tf.Variable([0.1, -0.1], name="loc")
raw_scale = tf.Variable([0.2, 0.3], name="raw_scale")


@tf.function
def loss():
    counts = tfd.Poisson(log_rate=log_rate).sample(seed=3)
    scale = tfb.Softplus()(raw_scale)
    positive = tfd.TransformedDistribution(tfd.Normal(loc, scale), tfb.Exp()).sample(seed=4)
    return tf.reduce_sum(counts) + tf.reduce_sum(positive)
