# Exercises: integer-like float ops whose gradients TF registers as None for
# some inputs: tf.math.floordiv (FloorDiv is registered NotDifferentiable) blocks `num`;
# tf.math.floormod (FloorMod) gives its first input a gradient, so `base`
# flows, while its divisor `div` gets the gradient -floor(x/y)*dy (flows).
import tensorflow as tf

num = tf.Variable([7.0, 9.0], name="num")
base = tf.Variable([5.5, 3.5], name="base")
div = tf.Variable([2.0, 2.0], name="div")


@tf.function
def loss():
    return tf.reduce_sum(tf.math.floordiv(num, 2.0)) + tf.reduce_sum(tf.math.floormod(base, div))
