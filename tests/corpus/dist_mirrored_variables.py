# Exercises: tf.distribute.MirroredStrategy over two logical CPUs, variables made
# in strategy.scope() and the loss computed through strategy.run. Each variable
# is reported once, under its own name: w1 flows; w2, w3 are blocked by the
# tf.stop_gradient (one op per replica, one line); `unused` is never read.
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])

rng = np.random.default_rng(0)
with strategy.scope():
    w1 = tf.Variable(rng.standard_normal((5, 1)).astype("float32"), name="w1")
    w2 = tf.Variable(rng.standard_normal((5, 1)).astype("float32"), name="w2")
    w3 = tf.Variable(rng.standard_normal((5, 1)).astype("float32"), name="w3")
    unused = tf.Variable(1.0, name="unused")

x = tf.constant(rng.standard_normal((4, 5)).astype("float32"))


@tf.function
def loss():
    def step():
        return tf.reduce_mean(tf.square(x @ w1 - tf.stop_gradient(x @ (w2 * w3))))

    per_replica = strategy.run(step)
    return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
