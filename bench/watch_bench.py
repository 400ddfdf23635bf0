"""Step time inside ``gradflow.watch()`` over step time without it, after each site's first analysis.

``python bench/watch_bench.py`` prints the ratios; bench.py includes them in
docs/performance.md. Two training loops on a small MLP: an eager
``tape.gradient`` loop and a ``tf.function`` step. Each is timed in pairs of
blocks of steps (plain and watched, which one first alternating from pair to
pair); the ratio is the median of the pairs' ratios, so that drift in the
machine's load hits both sides alike. Goal: ratio <= 1.02.
"""

from __future__ import annotations

import statistics
import sys
import time


def _loops():
    import numpy as np
    import tensorflow as tf

    model = tf.keras.Sequential([tf.keras.Input((64,)), tf.keras.layers.Dense(256, activation="relu"),
                                 tf.keras.layers.Dense(256, activation="relu"), tf.keras.layers.Dense(10)])
    opt = tf.keras.optimizers.SGD(1e-3)
    x = tf.constant(np.random.default_rng(0).normal(size=(128, 64)).astype("float32"))
    y = tf.constant(np.random.default_rng(1).integers(0, 10, 128))

    def eager_step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(y, model(x), from_logits=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))

    @tf.function
    def traced_step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(y, model(x), from_logits=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))

    return {"eager tape.gradient loop": eager_step, "tf.function step": traced_step}


def _block(step, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def measure(blocks: int = 21, block_s: float = 0.3, log=lambda msg: None) -> list[dict]:
    import gradflow

    results = []
    for name, step in _loops().items():
        plain, watched = [], []
        with gradflow.watch(show=False) as w:
            step()  # the first analysis of the site (a tf.function is traced here)
            assert w.reports, "the site was not analysed"
            step()
            steps = max(10, round(block_s / _block(step, 10)))  # blocks of about block_s seconds
            installed = True
            for i in range(blocks):  # pairs of blocks, which one goes first alternating
                for watching in ((True, False) if i % 2 else (False, True)):
                    if watching != installed:
                        w._interceptor.install() if watching else w._interceptor.uninstall()
                        installed = watching
                    (watched if watching else plain).append(_block(step, steps))
            if not installed:
                w._interceptor.install()
        row = {"loop": name, "steps": steps, "plain_s": statistics.median(plain), "watched_s": statistics.median(watched),
               "ratio": statistics.median(a / b for a, b in zip(watched, plain))}
        log(f"  {name}: plain {row['plain_s'] * 1000:.2f} ms, watched {row['watched_s'] * 1000:.2f} ms, "
            f"ratio {row['ratio']:.3f}")
        results.append(row)
    return results


def markdown(rows: list[dict]) -> str:
    out = ["## Cost of `gradflow.watch()` / `gradflow run` after the first analysis", "",
           "| loop | steps a block | step without (ms) | step with watch (ms) | ratio |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {r['loop']} | {r['steps']} | {r['plain_s'] * 1000:.2f} | {r['watched_s'] * 1000:.2f} | "
                   f"**{r['ratio']:.3f}** |")
    out += ["", "Step times: medians over 21 pairs of blocks of about 0.3 s; ratio: the median of the pairs' "
            "ratios (bench/watch_bench.py); goal: ratio <= 1.02.", ""]
    return "\n".join(out)


if __name__ == "__main__":
    print(markdown(measure(log=lambda msg: print(msg, file=sys.stderr))))
