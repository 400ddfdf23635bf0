# Exercises: a Keras 3 model built under tf.distribute.MirroredStrategy (two
# logical CPUs), its loss computed per replica with strategy.run and summed.
# The frozen teacher is behind tf.stop_gradient (blocked), the student's
# argmax-only head gets no gradient, BatchNormalization's moving statistics
# are not read in training mode.
import keras
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
keras.utils.set_random_seed(0)

with strategy.scope():
    student = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu", name="hidden"),
                                keras.layers.BatchNormalization(name="bn"), keras.layers.Dense(3, name="logits")],
                               name="student")
    picker = keras.layers.Dense(3, name="picker")
    picker.build((None, 6))
    teacher = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, name="teacher_out")], name="teacher")

rng = np.random.default_rng(0)
x = tf.constant(rng.standard_normal((4, 6)).astype("float32"))


@tf.function
def loss():
    def step():
        logits = student(x, training=True)
        target = tf.stop_gradient(tf.nn.softmax(teacher(x)))
        choice = tf.cast(tf.argmax(picker(x), axis=-1), tf.float32)
        return tf.reduce_mean(keras.losses.categorical_crossentropy(target, logits, from_logits=True)) + 0.0 * tf.reduce_sum(choice)

    per_replica = strategy.run(step)
    return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)
