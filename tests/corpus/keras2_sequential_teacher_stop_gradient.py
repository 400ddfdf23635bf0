# Exercises: Keras 2 (tf_keras) Sequential student with BatchNormalization in
# training mode, against a teacher behind tf.stop_gradient (blocked). BN's moving
# statistics are not read in training mode.
import numpy as np
import tf_keras as keras
import tensorflow as tf
tf.random.set_seed(0)
model = keras.Sequential([keras.layers.Dense(8, activation="relu", input_shape=(4,)), keras.layers.BatchNormalization(), keras.layers.Dense(1)])
teacher = keras.Sequential([keras.layers.Dense(1, input_shape=(4,))])
x = tf.constant(np.random.default_rng(0).standard_normal((4, 4)).astype("float32"))
@tf.function
def loss():
    return tf.reduce_mean(tf.square(model(x, training=True) - tf.stop_gradient(teacher(x))))
