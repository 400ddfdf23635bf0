"""DQN with a target network and an experience buffer, in a plain eager loop (no environment needed)."""
import sys

import numpy as np
import tensorflow as tf

rng = np.random.default_rng(0)
data = np.load(sys.argv[1])
states, next_states = data["states"], data["next_states"]
rewards, actions = data["rewards"], data["actions"]
num_actions = 3


def q_network():
    return tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(16, activation="relu"),
                                tf.keras.layers.Dense(num_actions)])


q_net, target_net = q_network(), q_network()
target_net.set_weights(q_net.get_weights())
optimizer = tf.keras.optimizers.Adam(1e-3)
gamma = 0.99

for step in range(20):
    idx = rng.integers(0, len(states), size=8)
    s, s2, r, a = states[idx], next_states[idx], rewards[idx], actions[idx]
    future = target_net(s2)
    target_q = r + gamma * tf.reduce_max(future, axis=1)
    with tf.GradientTape() as tape:
        q_values = q_net(s)
        q_action = tf.reduce_sum(q_values * tf.one_hot(a, num_actions), axis=1)
        loss = tf.reduce_mean(tf.square(target_q - q_action))
    grads = tape.gradient(loss, q_net.trainable_variables + target_net.trainable_variables)
    optimizer.apply_gradients(zip(grads[:len(q_net.trainable_variables)], q_net.trainable_variables))
    if step % 10 == 0:
        target_net.set_weights(q_net.get_weights())
