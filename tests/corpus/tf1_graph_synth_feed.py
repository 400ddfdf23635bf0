# Exercises: TF1 graph style WITHOUT example_feed: placeholders (one with an
# unknown batch dim) must be synthesised. `emb` is looked up with
# tf.nn.embedding_lookup on an int placeholder (IndexedSlices gradient);
# `idx_w` only feeds tf.argmax (blocked); `never` is never read (disconnected).
import tensorflow as tf

tf.compat.v1.disable_eager_execution()

x = tf.compat.v1.placeholder(tf.float32, [None, 4], name="x")
ids = tf.compat.v1.placeholder(tf.int32, [None], name="ids")
emb = tf.compat.v1.get_variable("emb", [5, 4], initializer=tf.compat.v1.random_normal_initializer(seed=1))
idx_w = tf.compat.v1.get_variable("idx_w", [4], initializer=tf.compat.v1.random_normal_initializer(seed=2))
never = tf.compat.v1.get_variable("never", [2], initializer=tf.compat.v1.zeros_initializer())
looked = tf.nn.embedding_lookup(emb, ids)
pick = tf.cast(tf.argmax(idx_w), tf.float32)
loss = tf.reduce_sum(looked * x) + pick
train_op = tf.compat.v1.train.GradientDescentOptimizer(0.1).minimize(loss)
