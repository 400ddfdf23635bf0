# Exercises: a tf.custom_gradient function whose gradient returns None for
# one of its inputs. `kept` flows; `dropped` is blocked by the custom
# gradient (the forward pass clearly uses it).
import tensorflow as tf

kept = tf.Variable([1.0, 2.0], name="kept")
dropped = tf.Variable([3.0, 4.0], name="dropped")


@tf.custom_gradient
def mul_first_only(a, b):
    def grad(dy):
        return dy * b, None
    return a * b, grad


@tf.function
def loss():
    return tf.reduce_sum(mul_first_only(kept * 1.0, dropped * 1.0))
