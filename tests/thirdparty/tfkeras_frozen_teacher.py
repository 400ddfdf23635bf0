# tf_keras (Keras 2): a layer frozen with trainable = False (its weights are not
# trainable, though TensorFlow still differentiates them) and a teacher whose
# output the user wraps in tf.stop_gradient (a deliberate freeze).
import numpy as np
import tensorflow as tf
import tf_keras as keras

tf.random.set_seed(0)
frozen = keras.layers.Dense(4, name="frozen")
frozen.trainable = False
teacher = keras.layers.Dense(4, name="teacher")
student = keras.layers.Dense(4, name="student")
x = tf.constant(np.random.default_rng(2).standard_normal((3, 5)).astype("float32"))
model = keras.Sequential([frozen, student])
model(x)
teacher(x)


@tf.function
def loss():
    target = tf.stop_gradient(teacher(x))
    return tf.reduce_mean(tf.square(model(x) - target))
