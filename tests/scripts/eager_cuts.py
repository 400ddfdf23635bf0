"""Every kind of cut in one small model, for the same step run eagerly and traced (tests/test_run_eager.py).

Also a script: ``python eager_cuts.py`` trains the eager step for a few steps.
"""
import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(0)
inputs = keras.Input((4,))
hidden = keras.layers.Dense(8, activation="relu", name="body")(inputs)
logits = keras.layers.Dense(3, name="head")(hidden)
value = keras.layers.Dense(1, name="unused_head")(hidden)
model = keras.Model(inputs, [logits, value])
teacher = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="teacher")])
scale = tf.Variable(2.0, name="scale")
bins = tf.Variable([0.5, -0.25, 1.0, 2.0], name="bins")
variables = model.trainable_variables + teacher.trainable_variables + [scale, bins]


def loss_fn(x, y):
    out, _ = model(x)
    target = tf.stop_gradient(teacher(x))
    loss = tf.reduce_mean(tf.square(out - target))
    loss += tf.cast(tf.cast(scale * 3.0, tf.int32), tf.float32)
    loss += tf.cast(tf.reduce_sum(tf.argmax(bins * x, axis=1)), tf.float32)
    loss += 0.1 * tf.reduce_sum(tf.stop_gradient(out) * y)
    return loss


def step(x, y):
    with tf.GradientTape() as tape:
        loss = loss_fn(x, y)
    return tape.gradient(loss, variables)


traced_step = tf.function(step)
rng = np.random.default_rng(0)
x = tf.constant(rng.normal(size=(8, 4)).astype("float32"))
y = tf.constant(rng.normal(size=(8, 3)).astype("float32"))
w = tf.Variable(rng.normal(size=(4, 3)).astype("float32"), name="w")
u = tf.Variable(rng.normal(size=(4, 3)).astype("float32"), name="u")


# -- eager calls with something special about them --------------------------------


@tf.function
def inner(a):
    return tf.reduce_sum(tf.matmul(a, w)) + tf.reduce_sum(tf.stop_gradient(tf.matmul(a, u)))


def fn_call():
    with tf.GradientTape() as tape:
        loss = inner(x) * 2.0
    return tape.gradient(loss, [w, u])


critic = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])


def penalty():
    with tf.GradientTape() as outer:
        with tf.GradientTape() as gp_tape:
            gp_tape.watch(x)
            pred = critic(x)
        g = gp_tape.gradient(pred, x)
        norm = tf.sqrt(tf.reduce_sum(tf.square(g), axis=1) + 1e-12)  # tf.norm's gradient is NaN at 0
        gp = tf.reduce_mean(tf.square(norm - 1.0))
        loss = tf.reduce_mean(pred) + 10.0 * gp
    return outer.gradient(loss, critic.trainable_variables)


def built_inside():
    layer = keras.layers.Dense(2, name="late")
    with tf.GradientTape() as tape:
        out = layer(x)
        loss = tf.reduce_sum(tf.stop_gradient(out))
    return tape.gradient(loss, layer.trainable_variables)


def watched_tensor():
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.cast(tf.round(x * 3.0), tf.int32)
        loss = tf.reduce_sum(tf.cast(y, tf.float32)) + tf.reduce_sum(x * x)
    return tape.gradient(loss, x)


def two_targets():
    with tf.GradientTape() as tape:
        a = tf.reduce_sum(tf.matmul(x, w))
        b = tf.reduce_sum(tf.stop_gradient(tf.matmul(x, u)))
    return tape.gradient([a, b], [w, u])


def main(steps=3):
    optimizer = keras.optimizers.SGD(0.01)
    for _ in range(steps):
        grads = step(x, y)
        optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])


if __name__ == "__main__":
    main()
