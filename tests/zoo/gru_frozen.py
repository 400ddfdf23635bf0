# Zoo: GRU distillation: a frozen teacher GRU (its output cut by
# tf.stop_gradient) and a student GRU trained to match it and to classify, plus
# an auxiliary head that never reaches the loss; training mode, `loss`
# tf.function. The teacher is blocked at the cut; student and head flow;
# `unused_head` is disconnected.
import tensorflow as tf
from keras import layers

from _zoo import CLASSES, seed, sequence_batch, sparse_ce

seed()
teacher = layers.GRU(8, dropout=0.2, seed=1, name="teacher")
student = layers.GRU(8, name="student")
head = layers.Dense(CLASSES, name="head")
unused_head = layers.Dense(2, name="unused_head")
example_inputs = sequence_batch()


@tf.function
def loss(x, y):
    target = tf.stop_gradient(teacher(x, training=True))  # zoo: cut
    code = student(x, training=True)
    _aux = unused_head(code)
    distill = tf.reduce_mean(tf.square(code - target))
    return sparse_ce(y, head(code), from_logits=True) + distill
