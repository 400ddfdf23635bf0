# Sonnet: an MLP and a BatchNorm in training mode. The MLP and the BatchNorm's
# scale/offset learn; its moving statistics are not trainable (expected).
import numpy as np
import sonnet as snt
import tensorflow as tf

tf.random.set_seed(0)
mlp = snt.nets.MLP([6, 4], name="mlp")
bn = snt.BatchNorm(create_scale=True, create_offset=True, name="bn")
head = snt.Linear(1, name="head")
x = tf.constant(np.random.default_rng(0).standard_normal((8, 3)).astype("float32"))
head(bn(mlp(x), is_training=True))


@tf.function
def loss():
    return tf.reduce_mean(tf.square(head(bn(mlp(x), is_training=True))))
