"""Knowledge distillation: a frozen teacher, a student trained on soft targets (custom train_step)."""
import argparse

import keras
import numpy as np
import tensorflow as tf

p = argparse.ArgumentParser()
p.add_argument("data")
p.add_argument("--temperature", type=float, default=3.0)
a = p.parse_args()
d = np.load(a.data)
x, y = d["features"], d["labels"]

teacher = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(4)],
                           name="teacher")
student = keras.Sequential([keras.Input((16,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(4)],
                           name="student")


class Distiller(keras.Model):
    def __init__(self, student, teacher):
        super().__init__()
        self.teacher, self.student = teacher, student

    def compile(self, optimizer, student_loss_fn, distillation_loss_fn, alpha=0.1, temperature=3):
        super().compile(optimizer=optimizer)
        self.student_loss_fn, self.distillation_loss_fn = student_loss_fn, distillation_loss_fn
        self.alpha, self.temperature = alpha, temperature

    def train_step(self, data):
        x, y = data
        teacher_predictions = self.teacher(x, training=False)
        with tf.GradientTape() as tape:
            student_predictions = self.student(x, training=True)
            student_loss = self.student_loss_fn(y, student_predictions)
            distillation_loss = self.distillation_loss_fn(
                tf.nn.softmax(teacher_predictions / self.temperature, axis=1),
                tf.nn.softmax(student_predictions / self.temperature, axis=1))
            loss = self.alpha * student_loss + (1 - self.alpha) * distillation_loss
        trainable_vars = self.student.trainable_variables + self.teacher.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        pairs = [(g, v) for g, v in zip(gradients, trainable_vars) if g is not None]
        self.optimizer.apply_gradients(pairs)
        return {"loss": loss}


teacher.trainable = True
distiller = Distiller(student, teacher)
distiller.compile(keras.optimizers.Adam(), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  keras.losses.KLDivergence(), temperature=a.temperature)
distiller.fit(x, y, epochs=2, batch_size=8, verbose=0)
