"""Custom training loop under tf.distribute.MirroredStrategy (the tf.distribute tutorial's shape).

Two logical CPUs stand in for two GPUs. The model has an auxiliary head the
loss never reads, and the embedding of the label is frozen with stop_gradient.
"""
import argparse

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--eager", action="store_true", help="run the distributed step eagerly")
    args = parser.parse_args()

    data = np.load(args.data)
    features, labels = data["features"], data["labels"]
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    global_batch = args.batch_size * strategy.num_replicas_in_sync
    dataset = tf.data.Dataset.from_tensor_slices((features, labels)).shuffle(16).batch(global_batch)
    dist_dataset = strategy.experimental_distribute_dataset(dataset)

    with strategy.scope():
        inputs = tf.keras.Input((16,))
        hidden = tf.keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
        logits = tf.keras.layers.Dense(4, name="classifier")(hidden)
        aux = tf.keras.layers.Dense(1, name="aux")(hidden)
        model = tf.keras.Model(inputs, [logits, aux])
        label_embedding = tf.Variable(tf.random.normal((4, 4)), name="label_embedding")
        optimizer = tf.keras.optimizers.Adam()
        optimizer.build(model.trainable_variables + [label_embedding])
        loss_object = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")

    def compute_loss(labels, logits):
        per_example = loss_object(labels, logits)
        smoothing = tf.reduce_sum(tf.stop_gradient(tf.gather(label_embedding, labels)) * tf.nn.softmax(logits), axis=1)
        return tf.nn.compute_average_loss(per_example + 0.01 * smoothing, global_batch_size=global_batch)

    def train_step(inputs):
        x, y = inputs
        with tf.GradientTape() as tape:
            logits, _ = model(x, training=True)
            loss = compute_loss(y, logits)
        variables = model.trainable_variables + [label_embedding]
        gradients = tape.gradient(loss, variables)
        optimizer.apply_gradients([(g, v) for g, v in zip(gradients, variables) if g is not None])
        return loss

    def distributed_train_step(inputs):
        per_replica_losses = strategy.run(train_step, args=(inputs,))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica_losses, axis=None)

    if not args.eager:
        distributed_train_step = tf.function(distributed_train_step)

    for epoch in range(args.epochs):
        total, batches = 0.0, 0
        for batch in dist_dataset:
            total += distributed_train_step(batch)
            batches += 1
        print(f"epoch {epoch + 1}: loss {total / batches:.4f}")


if __name__ == "__main__":
    main()
