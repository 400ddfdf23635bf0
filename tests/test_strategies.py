"""tf.distribute and mixed precision: one entry per variable, casts that are and are not cuts.

Every verdict here is also checked against TensorFlow's own autodiff by
tests/test_differential.py (the same corpus files); these tests pin what the
report says beyond the verdict. MirroredStrategy needs two logical CPUs set up
before TensorFlow starts, so it runs in a subprocess, as a user would run it.
"""

from __future__ import annotations

import keras
import pytest

import gradflow
from conftest import ROOT
from test_cli import check_schema

CORPUS = ROOT / "tests" / "corpus"


def _line_of(path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_mirrored_variables_are_reported_once_with_the_users_stop_gradient(inspect_json):
    path = CORPUS / "dist_mirrored_variables.py"
    report = inspect_json(f"tests/corpus/{path.name}")
    check_schema(report)
    by_name = {v["name"]: v for v in report["variables"]}
    # One entry per MirroredVariable: no "w1#2" or "w1/replica_1" for the per-replica copies.
    assert list(by_name) == ["w1", "w2", "w3", "unused"]
    assert {n: v["status"] for n, v in by_name.items()} == {
        "w1": "flows", "w2": "blocked", "w3": "blocked", "unused": "disconnected"}
    line = _line_of(path, "tf.stop_gradient(")
    for name in ("w2", "w3"):
        blockers = by_name[name]["blockers"]
        # One StopGradient per replica, both at the user's line (built on the replicas' threads).
        assert len(blockers) == 2 and {b["type"] for b in blockers} == {"StopGradient"}
        assert {(b["location"]["file"], b["location"]["line"]) for b in blockers} == {
            (f"tests/corpus/{path.name}", line)}
        assert by_name[name]["expected"] is True, by_name[name]["expected_reason"]
    assert by_name["w1"]["paths"]["total"] == 2  # one path per replica


def test_mixed_float16_casts_are_not_cuts_and_the_policy_is_restored():
    before = keras.mixed_precision.global_policy().name
    report = gradflow.inspect_file(str(CORPUS / "mixed_float16_compiled.py"), strict=True)
    assert keras.mixed_precision.global_policy().name == before == "float32"

    flows = [v for v in report.variables if v.name.startswith(("hidden/", "out/"))]
    assert flows and all(v.status == "flows" and v.paths.blocked == 0 for v in flows)
    assert {v.dtype for v in report.variables} == {"float32"}  # variables stay float32 under the policy

    line = _line_of(CORPUS / "mixed_float16_compiled.py", "tf.int32")
    for name in ("bucket/kernel", "bucket/bias"):
        v = report.variable(name)
        assert v.status == "blocked"
        (b,) = v.blockers
        assert (b.type, b.location.line) == ("Cast", line) and "int32" in b.reason


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_float_casts_pass_the_gradient(dtype):
    import tensorflow as tf

    w = tf.Variable([1.5, -2.0], name="w")

    @tf.function
    def loss():
        return tf.reduce_sum(tf.cast(tf.cast(w, dtype) * 3, tf.float32))

    report = gradflow.inspect(loss, strict=True)
    assert report.status("w") == "flows" and report.variable("w").paths.blocked == 0


def test_mixed_float16_training_with_loss_scale_optimizer():
    from gradflow.training.run import train_file

    run = train_file(str(CORPUS / "mixed_float16_compiled.py"), steps=30)
    # Keras wraps a mixed_float16 model's optimizer in a LossScaleOptimizer; gradflow trains with a clone of it.
    assert (run.optimizer.name, run.optimizer.origin) == ("LossScaleOptimizer", "model")
    # The int-cast branch never moves; everything else does, as inspect predicts.
    for v in run.variables:
        assert v.verdict == ("frozen" if v.name.startswith("bucket/") else "moved"), v
    assert keras.mixed_precision.global_policy().name == "float32"
