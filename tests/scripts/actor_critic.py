"""Advantage actor-critic: shared body, actor and critic heads; returns via a Python loop (eager, persistent tape)."""
import sys

import numpy as np
import tensorflow as tf

episode = np.load(sys.argv[1])
states, actions, rewards = episode["states"], episode["actions"], episode["rewards"]

inputs = tf.keras.Input(shape=(4,))
common = tf.keras.layers.Dense(16, activation="relu")(inputs)
action_logits = tf.keras.layers.Dense(3, name="actor")(common)
value = tf.keras.layers.Dense(1, name="critic")(common)
model = tf.keras.Model(inputs, [action_logits, value])
optimizer = tf.keras.optimizers.Adam(learning_rate=0.01)
huber = tf.keras.losses.Huber()


def expected_returns(rewards, gamma=0.99):
    out, discounted = [], 0.0
    for r in rewards[::-1]:
        discounted = r + gamma * discounted
        out.append(discounted)
    return np.array(out[::-1], dtype="float32")


for episode_no in range(3):
    with tf.GradientTape(persistent=True) as tape:
        logits, values = model(states)
        values = tf.squeeze(values, 1)
        probs = tf.nn.softmax(logits)
        action_probs = tf.gather(probs, actions, batch_dims=1)
        returns = expected_returns(rewards)
        advantage = returns - values
        actor_loss = -tf.reduce_sum(tf.math.log(action_probs) * tf.stop_gradient(advantage))
        critic_loss = huber(values, returns)
    actor_grads = tape.gradient(actor_loss, model.trainable_variables)
    critic_grads = tape.gradient(critic_loss, model.trainable_variables)
    del tape
    grads = [(a if a is not None else 0) + (c if c is not None else 0) for a, c in zip(actor_grads, critic_grads)]
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
