"""Mistake: a two-headed model whose loss reads only one head.

The aux head is trainable and never learns: `disconnected`, and not expected.
"""
import tensorflow as tf

x = tf.random.stateless_normal([8, 4], seed=[6, 0])
trunk = tf.Variable(tf.random.stateless_normal([4, 5], seed=[7, 0]), name="trunk")
main_head = tf.Variable(tf.random.stateless_normal([5, 1], seed=[8, 0]), name="main_head")
aux_head = tf.Variable(tf.random.stateless_normal([5, 2], seed=[9, 0]), name="aux_head")


def loss():
    h = tf.nn.relu(x @ trunk)
    main_out = h @ main_head
    aux_out = h @ aux_head  # computed, never used: the mistake
    return tf.reduce_mean(tf.square(main_out))
