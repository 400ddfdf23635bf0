"""`gradflow train`: real optimizer steps, checked on the numbers.

Every run here is real TensorFlow on a tiny model. The canonical example is the
seed story: w1 moves until it equals w2 * w3, while w2 and w3, behind
tf.stop_gradient, stay exactly (bit for bit) where they started.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from gradflow.errors import TrainOptionsError
from gradflow.training.batches import Batches
from gradflow.training.judge import decide_verdict, judge
from gradflow.training.record import sample_indices
from gradflow.training.run import train_file

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "train_cases"
CANONICAL = str(ROOT / "examples" / "stop_gradient.py")
CANONICAL_TF1 = str(ROOT / "examples" / "stop_gradient_tf1.py")


def case(name: str) -> str:
    return str(CASES / f"{name}.py")


def end(run, name: str) -> np.ndarray:
    return np.array(run.variable(name).values[-1])


def start(run, name: str) -> np.ndarray:
    return np.array(run.variable(name).values[0])


def assert_bit_identical_throughout(v) -> None:
    """Every recorded step holds exactly the starting bits (float32 compared as float32)."""
    rows = np.array(v.values, dtype=np.float32)
    assert rows.view(np.uint32).tolist() == [rows[0].view(np.uint32).tolist()] * len(rows)
    assert v.changed_steps == 0
    assert v.delta_norm == 0.0


@pytest.fixture(scope="module")
def canonical():
    return train_file(CANONICAL, steps=200)


@pytest.fixture(scope="module")
def canonical_tf1():
    return train_file(CANONICAL_TF1, steps=200)


class TestCanonical:
    def test_w1_converges_to_w2_times_w3(self, canonical):
        target = end(canonical, "w2") * end(canonical, "w3")
        assert np.max(np.abs(start(canonical, "w1") - target)) > 0.5
        assert np.max(np.abs(end(canonical, "w1") - target)) < 1e-5
        assert canonical.loss[-1] < 1e-9 * canonical.loss[0]

    def test_w2_and_w3_exactly_unchanged(self, canonical):
        for name in ("w2", "w3"):
            v = canonical.variable(name)
            assert_bit_identical_throughout(v)
            assert v.verdict == "frozen"
            assert v.grad_norms is None  # TensorFlow gives them no gradient at all
            assert v.static_status == "blocked" and v.agrees

    def test_w1_moved_as_inspect_predicts(self, canonical):
        w1 = canonical.variable("w1")
        assert (w1.verdict, w1.static_status, w1.agrees) == ("moved", "flows", True)
        assert w1.changed_steps > 100
        assert w1.max_grad_norm == pytest.approx(canonical.static.variable("w1").grad_norm, rel=1e-5)
        assert len(w1.values) == 201 and len(w1.grad_norms) == 200
        assert canonical.summary == {"moved": 1, "frozen": 2, "diverged": 0, "disagreements": 0}

    def test_names_and_order_match_inspect(self, canonical):
        assert [v.name for v in canonical.variables] == [v.name for v in canonical.static.variables]
        assert canonical.optimizer.to_dict() == {"name": "sgd", "learning_rate": 0.1, "origin": "gradflow",
                                                 "weight_decay": None}

    def test_first_step_is_plain_sgd(self, canonical):
        # step 1: w1 <- w1 - 0.1 * grad, with grad = 2/8 x^T (x w1 - x w2 w3)
        x = np.array(__import__("tensorflow").random.stateless_normal([8, 5], seed=[1, 0]), dtype=np.float64)
        w1, w2, w3 = (start(canonical, n).reshape(5, 1) for n in ("w1", "w2", "w3"))
        grad = 2.0 / 8.0 * x.T @ (x @ w1 - x @ (w2 * w3))
        after = np.array(canonical.variable("w1").values[1]).reshape(5, 1)
        np.testing.assert_allclose(after, w1 - 0.1 * grad, rtol=1e-5, atol=1e-6)
        assert canonical.loss[0] == pytest.approx(float(np.mean((x @ w1 - x @ (w2 * w3)) ** 2)), rel=1e-5)


class TestTF1:
    def test_canonical_tf1_runs_its_own_train_op(self, canonical_tf1):
        assert canonical_tf1.optimizer.origin == "train_op"
        target = end(canonical_tf1, "w2") * end(canonical_tf1, "w3")
        before = np.max(np.abs(start(canonical_tf1, "w1") - target))
        after = np.max(np.abs(end(canonical_tf1, "w1") - target))
        assert after < before / 20  # converging (this feed is ill-conditioned: slow, but steady)
        assert canonical_tf1.loss[-1] < 1e-3 * canonical_tf1.loss[0]
        for name in ("w2", "w3"):
            assert_bit_identical_throughout(canonical_tf1.variable(name))
            assert canonical_tf1.verdict(name) == "frozen"
        assert canonical_tf1.verdict("w1") == "moved"
        assert not canonical_tf1.disagreements

    def test_builds_a_tf1_optimizer_without_train_op(self):
        run = train_file(case("tf1_canonical"), steps=60)
        assert run.optimizer.to_dict()["origin"] == "gradflow"
        target = end(run, "w2") * end(run, "w3")
        assert np.max(np.abs(end(run, "w1") - target)) < 1e-4
        for name in ("w2", "w3"):
            assert_bit_identical_throughout(run.variable(name))
        # the watched expression is recorded at every step and equals w2 * w3
        (watch,) = run.watches
        assert watch.label == "w2 * w3" and len(watch.values) == 61
        np.testing.assert_allclose(watch.values[-1], target, rtol=1e-6)

    def test_adam_on_a_tf1_graph(self):
        run = train_file(case("tf1_canonical"), steps=5, optimizer="adam", lr=0.05)
        assert run.optimizer.name == "adam"
        # Adam's first step moves every element with a gradient by ~lr
        step = np.abs(np.array(run.variable("w1").values[1]) - start(run, "w1"))
        np.testing.assert_allclose(step, 0.05, rtol=1e-3)
        assert run.verdict("w2") == "frozen"

    def test_blocked_variable_moved_by_weight_decay_in_train_op(self):
        run = train_file(case("tf1_weight_decay"), steps=30)
        w2 = run.variable("w2")
        assert w2.static_status == "blocked" and w2.grad_norms is None
        assert w2.verdict == "moved" and not w2.agrees
        # moved by the decay alone: exactly 0.99 per step
        np.testing.assert_allclose(end(run, "w2"), start(run, "w2") * 0.99 ** 30, rtol=1e-5)
        assert "weight decay" in w2.explanation
        assert "tf1_weight_decay.py:17" in w2.explanation  # the line of the assign
        assert run.variable("w1").agrees


class TestVerdicts:
    def test_nan_appears_mid_training(self):
        run = train_file(case("nan_midway"), steps=30)
        # simulate sqrt's SGD in float32: the first NaN gradient comes when r < 0
        r, expected = np.float32(1.0), None
        for k in range(1, 31):
            g = np.float32(0.5) / np.sqrt(r) if r >= 0 else np.float32("nan")
            if not np.isfinite(g):
                expected = k
                break
            r = np.float32(r - np.float32(0.1) * g)
        assert expected == 16
        rv = run.variable("r")
        assert rv.first_nonfinite_grad_step == expected
        assert rv.first_nonfinite_value_step == expected
        assert run.first_nonfinite_step == expected
        assert all(math.isfinite(g) for g in rv.grad_norms[: expected - 1])
        assert math.isnan(rv.grad_norms[expected - 1])
        assert rv.verdict == "diverged" and not rv.agrees and rv.static_status == "flows"
        assert "step 16" in rv.explanation
        b = run.variable("b")
        assert b.verdict == "moved" and b.first_nonfinite_grad_step is None and b.agrees
        assert all(math.isfinite(x) for row in b.values for x in row)

    def test_nonfinite_gradient_diverges_as_inspect_predicts(self):
        run = train_file(str(ROOT / "tests" / "corpus" / "nonfinite_log_zero.py"), steps=3)
        p = run.variable("p")
        assert p.static_status == "nonfinite"
        assert (p.verdict, p.agrees, p.first_nonfinite_grad_step) == ("diverged", True, 1)
        assert run.verdict("t") == "moved"

    def test_zero_gradient_leaves_it_frozen(self):
        run = train_file(case("zero_gradient"), steps=20)
        dead = run.variable("dead")
        assert dead.static_status == "zero"
        assert dead.grad_norms == (0.0,) * 20
        assert_bit_identical_throughout(dead)
        assert dead.verdict == "frozen" and dead.agrees
        assert run.verdict("w") == "moved"

    def test_assign_in_the_loss_moves_a_blocked_variable(self):
        run = train_file(case("assign_in_loss"), steps=10)
        shadow = run.variable("shadow")
        assert (shadow.static_status, shadow.verdict, shadow.agrees) == ("blocked", "moved", False)
        np.testing.assert_allclose(end(run, "shadow"), start(run, "shadow") * 0.98 ** 10, rtol=1e-5)
        assert any("assign_in_loss.py:13" in w for w in shadow.writers)

    def test_keras_model_uses_its_own_optimizer_and_batches(self):
        run = train_file(case("keras_batches"), steps=6)
        assert run.optimizer.origin == "model" and run.optimizer.name == "Adam"
        assert run.optimizer.learning_rate == pytest.approx(0.01)
        assert run.batches == "example_batches: 3 batches, cycled"
        names = [v.name for v in run.variables]
        moving = [n for n in names if "moving" in n]
        assert len(moving) == 2
        for name in moving:  # BatchNorm updates its statistics itself: moved, not trained, agrees
            v = run.variable(name)
            assert (v.trained, v.verdict, v.agrees) == (False, "moved", True)
            assert v.writers
        # batches cycle: step 4 is fed batch 1 again, so its loss is computed on the same data
        trained = [v for v in run.variables if v.trained]
        assert trained and all(v.verdict == "moved" and v.agrees for v in trained)
        sgd = train_file(case("keras_batches"), steps=2, optimizer="sgd")
        assert sgd.optimizer.to_dict() == {"name": "sgd", "learning_rate": 0.1, "origin": "gradflow",
                                           "weight_decay": None}
        faster = train_file(case("keras_batches"), steps=1, lr=0.5)  # the model's Adam, at another rate
        assert (faster.optimizer.origin, faster.optimizer.name) == ("model", "Adam")
        assert faster.optimizer.learning_rate == pytest.approx(0.5)

    def test_generator_batches_cycle(self):
        run = train_file(case("alternating_batches"), steps=4)
        # x = 0, 2, 0, 2; loss = (w - x)^2; w <- w - 0.1 * 2 (w - x)
        w, losses = 0.5, []
        for x in (0.0, 2.0, 0.0, 2.0):
            losses.append((w - x) ** 2)
            w = w - 0.1 * 2 * (w - x)
        np.testing.assert_allclose(run.loss, losses, rtol=1e-6)
        assert run.inputs.startswith("example_batches[0]")


class TestPythonAPI:
    def test_train_a_function_and_restore(self):
        import tensorflow as tf

        import gradflow

        w = tf.Variable([1.0, 2.0], name="w")
        frozen = tf.Variable([3.0], name="frozen")

        def loss(x):
            return tf.reduce_sum(tf.square(w * x)) + tf.reduce_sum(tf.stop_gradient(frozen))

        run = gradflow.train(loss, tf.constant([1.0, 1.0]), steps=5, variables=[w, frozen])
        assert run.verdict("w") == "moved" and run.verdict("frozen") == "frozen"
        np.testing.assert_allclose(run.variable("w").values[-1], np.array([1.0, 2.0]) * 0.8 ** 5, rtol=1e-6)
        assert w.numpy().tolist() == [1.0, 2.0]  # restored
        gradflow.train(loss, tf.constant([1.0, 1.0]), steps=1, variables=[w, frozen], restore=False)
        np.testing.assert_allclose(w.numpy(), [0.8, 1.6], rtol=1e-6)

    def test_weight_decay_moves_a_zero_gradient_variable(self):
        import keras
        import tensorflow as tf

        import gradflow

        w = tf.Variable([0.5], name="w")
        dead = tf.Variable([-2.0, -3.0], name="dead")

        def loss():
            return tf.reduce_sum(tf.square(w - 1.0)) + tf.reduce_sum(tf.nn.relu(dead))

        decayed = gradflow.train(loss, steps=5, optimizer=keras.optimizers.AdamW(learning_rate=0.1, weight_decay=0.5))
        d = decayed.variable("dead")
        assert d.static_status == "zero" and d.grad_norms == (0.0,) * 5
        assert d.verdict == "moved" and not d.agrees and "weight decay" in d.explanation
        np.testing.assert_allclose(d.values[-1], np.array([-2.0, -3.0]) * (1 - 0.1 * 0.5) ** 5, rtol=1e-5)
        plain = gradflow.train(loss, steps=5, optimizer="adam")
        assert plain.verdict("dead") == "frozen" and plain.variable("dead").agrees

    def test_bad_options(self):
        import gradflow

        with pytest.raises(TrainOptionsError, match="--steps"):
            gradflow.train(lambda: 0.0, steps=0)
        with pytest.raises(TrainOptionsError, match="optimizer"):
            gradflow.train(lambda: 0.0, optimizer="lbfgs")
        with pytest.raises(TrainOptionsError, match="--lr"):
            gradflow.train(lambda: 0.0, lr=float("nan"))

    def test_report_renders_and_serialises(self, canonical):
        assert canonical._repr_svg_().startswith("<?xml")
        text = str(canonical)
        assert "gradflow train" in text and "200 steps of sgd (lr 0.1)" in text
        assert "w2 " in text and "✓ frozen" in text and "✓ moved" in text
        assert "1 moved, 2 frozen, 0 diverged  ·  every verdict agrees with inspect" in text
        d = json.loads(canonical.to_json())
        assert d["schema"] == "gradflow.train/1"
        assert d["summary"] == canonical.summary
        w2 = next(v for v in d["variables"] if v["name"] == "w2")
        assert w2["start"]["values"] == w2["end"]["values"] and w2["grad"] is None
        assert w2["static"]["status"] == "blocked" and w2["verdict"] == "frozen" and w2["agrees"]


class TestPieces:
    def test_decide_verdict(self):
        assert decide_verdict(None, 0) == "frozen"
        assert decide_verdict(None, 1) == "moved"
        assert decide_verdict(3, 2) == "diverged"

    def test_judge_flags_what_inspect_does_not_predict(self):
        common = dict(trained=True, first_nonfinite_grad_step=None, first_nonfinite_value_step=None)
        assert judge(verdict="moved", static="flows", grad_norms=[1.0], **common)[0]
        assert judge(verdict="frozen", static="blocked", grad_norms=None, **common)[0]
        assert judge(verdict="frozen", static="zero", grad_norms=[0.0], **common)[0]
        ok, why = judge(verdict="moved", static="blocked", grad_norms=None, **common)
        assert not ok and "weight decay" in why
        ok, why = judge(verdict="frozen", static="flows", grad_norms=[0.0, 0.0], **common)
        assert not ok and "zero at every training step" in why
        ok, why = judge(verdict="moved", static="zero", grad_norms=[0.0], weight_decay=0.01, **common)
        assert not ok and "weight decay (0.01)" in why
        ok, why = judge(verdict="frozen", static="flows", grad_norms=[1.0], train_op=True,
                        updated_by_train_op=False, **common)
        assert not ok and "train_op never updates it" in why
        ok, why = judge(verdict="moved", static="disconnected", grad_norms=None, trained=False,
                        first_nonfinite_grad_step=None, first_nonfinite_value_step=None)
        assert ok and "updates it itself" in why

    def test_sample_indices(self):
        assert sample_indices(16).tolist() == list(range(16))
        assert sample_indices(17).tolist() == [0, 4, 8, 12, 16]

    def test_batches_cycle_lists_and_iterators(self):
        import itertools

        assert list(itertools.islice(Batches([1, 2, 3], label="b"), 7)) == [1, 2, 3, 1, 2, 3, 1]
        assert list(itertools.islice(Batches(iter("ab"), label="b"), 5)) == list("ababa")
        with pytest.raises(Exception, match="empty"):
            Batches([], label="b")

    def test_the_package_keeps_its_public_names(self):
        import gradflow
        import gradflow.training as training
        from gradflow.training.result import TrainReport

        assert gradflow.train is training.train is training.run.train
        assert training.train_file is train_file and training.TrainReport is TrainReport
        assert training.decide_verdict is decide_verdict and training.sample_indices is sample_indices
        assert training.TrainOptionsError is TrainOptionsError
        assert set(training.__all__) <= set(dir(training))
