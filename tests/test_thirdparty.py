"""Third-party models (keras-hub, TensorFlow Probability, Sonnet, tf_keras) against TensorFlow.

Each model file in tests/thirdparty/ is run through the differential harness
(tests/differential.py): the oracle (tests/oracle.py) asks TensorFlow's
autodiff for every variable's gradient, gradflow runs as a user runs it, and
every verdict must agree. Then the explanations are checked: the decisive cut
at the user's line and its origin, no library cut in a flowing variable's
``why``, an honest ``expected``, numeric causes and the loss value.

Models use small random configurations; nothing is downloaded.
"""

from __future__ import annotations

import os

import pytest

from differential import REPO, TESTS, assert_agrees

THIRDPARTY = TESTS / "thirdparty"


def run(stem: str):
    rel = os.path.relpath(THIRDPARTY / f"{stem}.py", REPO)
    result = assert_agrees(rel)
    return rel, {v["name"]: v for v in result.report["variables"]}, result.report


def no_library_cut_in_a_flowing_why(variables: dict) -> None:
    for v in variables.values():
        if v["status"] == "flows":
            assert "inside" not in v["why"] and "moments" not in v["why"], (v["name"], v["why"])


def test_keras_hub_bert_frozen_by_the_users_stop_gradient():
    rel, variables, report = run("hub_bert_frozen")
    frozen = [v for v in variables.values() if v["status"] == "blocked" and v["trainable"]]
    assert len(frozen) >= 19
    for v in frozen:
        first = v["blockers"][0]
        assert first["decisive"] is True and first["origin"] == "user" and first["type"] == "StopGradient"
        assert first["location"] == {"file": rel, "line": 21}
        assert v["why"].startswith(f"tf.stop_gradient at {rel}:21"), v["why"]
        assert v["expected"] is True, v["expected_reason"]
        # The LayerNorm moments' StopGradients are Keras's, on the backbone call's line, and not decisive.
        for b in v["blockers"][1:]:
            assert b["decisive"] is False and b["origin"] == "library:keras"
            assert b["location"] == {"file": rel, "line": 20}
    seeds = [v for v in variables.values() if "seed_generator_state" in v["name"]]
    assert seeds and all(not v["trainable"] and v["expected"] and "seed state" in v["why"] for v in seeds)
    assert all(b["fix"] == "" for v in seeds for b in v["blockers"])  # an expected variable gets no fix
    sgs = report["stop_gradients"]
    assert [s["origin"] for s in sgs].count("user") == 1
    assert all(s["origin"] == "library:keras" and not s["shields"] for s in sgs if s["origin"] != "user")
    no_library_cut_in_a_flowing_why(variables)
    assert report["loss"]["finite"] is True and report["loss"]["value"] > 0


@pytest.mark.slow
def test_expected_does_not_depend_on_formatting():
    """The backbone call and the stop_gradient on one line: the same verdicts and expectations."""
    _, apart, _ = run("hub_bert_frozen")
    rel, together, _ = run("hub_bert_frozen_oneline")
    assert {n: (v["status"], v["expected"]) for n, v in apart.items()} == \
           {n: (v["status"], v["expected"]) for n, v in together.items()}
    for v in together.values():
        if v["status"] == "blocked" and v["trainable"]:
            assert v["why"].startswith(f"tf.stop_gradient at {rel}:20")


@pytest.mark.slow
def test_keras_hub_lora_zero_names_lora_kernel_b():
    rel, variables, _ = run("hub_lora")
    zeros = [v for v in variables.values() if v["status"] == "zero"]
    assert zeros and all(v["name"].endswith("lora_kernel_a") for v in zeros)
    for v in zeros:
        cause = v["numeric_cause"]
        assert cause["type"] == "MatMul" and cause["reason"] == "MatMul with lora_kernel_b, which is all zero"
        assert cause["location"]["file"] == rel
        assert v["why"].startswith("MatMul with lora_kernel_b, which is all zero")
        assert "stop_gradient" not in v["why"]
    base = [v for n, v in variables.items() if n.endswith(("query/kernel", "value/kernel"))]
    assert base and all(not v["trainable"] for v in base)  # frozen by enable_lora
    no_library_cut_in_a_flowing_why(variables)


def test_tfp_bernoulli_sample_is_worded_as_the_users_call():
    rel, variables, _ = run("tfp_bernoulli")
    v = variables["logits"]
    assert v["status"] == "blocked" and v["expected"] is False
    assert v["why"] == (f"Bernoulli.sample at {rel}:14: a sample of a discrete distribution has no gradient")
    first = v["blockers"][0]
    assert first["decisive"] and first["origin"] == "library:tensorflow_probability"
    assert "RelaxedBernoulli" in first["fix"] and "score-function" in first["fix"]
    assert variables["loc"]["status"] == "flows"  # Normal.sample is reparameterized


def test_tfp_poisson_one_reason_per_call_and_bijectors_flow():
    rel, variables, _ = run("tfp_poisson_bijector")
    v = variables["log_rate"]
    assert v["status"] == "blocked"
    assert v["why"].startswith(f"Poisson.sample at {rel}:16: a sample of a discrete distribution has no gradient")
    assert v["why"].count("Poisson.sample") == 1
    assert {b["origin"] for b in v["blockers"]} == {"library:tensorflow_probability"}
    assert len({b["fix"] for b in v["blockers"]}) == 1  # one fix for the call, not one per internal op
    assert variables["loc"]["status"] == variables["raw_scale"]["status"] == "flows"


def test_sonnet_mlp_and_batchnorm():
    _, variables, report = run("sonnet_mlp_batchnorm")
    for name, v in variables.items():
        if "moving_" in name:
            assert not v["trainable"] and v["expected"] is True
            assert v["why"] == "BatchNormalization moving statistic: updated by assign, not by a gradient"
        else:
            assert v["status"] == "flows" and v["why"] == ""
    assert all(s["origin"] == "library:sonnet" and not s["shields"] for s in report["stop_gradients"])
    no_library_cut_in_a_flowing_why(variables)


def test_tf_keras_trainable_false_and_a_frozen_teacher():
    rel, variables, report = run("tfkeras_frozen_teacher")
    assert variables["frozen/kernel"]["trainable"] is False and variables["frozen/bias"]["trainable"] is False
    assert variables["student/kernel"]["trainable"] is True
    for name in ("teacher/kernel", "teacher/bias"):
        v = variables[name]
        assert v["status"] == "blocked" and v["expected"] is True
        assert v["why"] == f"tf.stop_gradient at {rel}:21"
        assert v["blockers"][0]["origin"] == "user" and v["blockers"][0]["decisive"] is True
    trainable = sum(v["trainable"] for v in variables.values())
    assert trainable == 4  # the frozen layer is not counted


@pytest.mark.parametrize("stem, name, op_type, line, words", [
    ("zero_dead_relu", "w_in", "Relu", 16, "all 4 pre-activations ≤ 0"),
    ("nonfinite_sqrt_zero", "radius", "Sqrt", 11, "its input is 0, so the gradient is Inf"),
])
def test_numeric_causes_name_their_op_and_line(stem, name, op_type, line, words):
    rel = f"tests/corpus/{stem}.py"
    result = assert_agrees(rel)
    v = {x["name"]: x for x in result.report["variables"]}[name]
    cause = v["numeric_cause"]
    assert (cause["type"], cause["location"]) == (op_type, {"file": rel, "line": line})
    assert words in cause["reason"] and v["why"].startswith(f"{op_type} at {rel}:{line}")


def test_a_nan_loss_names_its_first_op_first():
    rel = "tests/corpus/nonfinite_log_zero.py"
    result = assert_agrees(rel)
    loss = result.report["loss"]
    assert loss["finite"] is False and loss["value"] is None
    assert loss["first_nonfinite"]["type"] == "Log" and loss["first_nonfinite"]["location"] == {"file": rel, "line": 13}
    assert result.report["notes"][0].startswith("the loss is NaN or Inf on the example inputs: first at Log at "
                                                f"{rel}:13")


@pytest.mark.slow
def test_keras_hub_gpt2_unused_value_head_is_the_one_problem():
    _, variables, report = run("hub_gpt2_unused_head")
    problems = {n for n, v in variables.items() if v["trainable"] and v["status"] != "flows"}
    assert problems == {"value_head/kernel", "value_head/bias"}
    for name in problems:
        v = variables[name]
        assert v["status"] == "disconnected" and v["expected"] is False and "never reads" in v["why"]
    no_library_cut_in_a_flowing_why(variables)
    assert all(s["origin"] == "library:keras" and not s["shields"] for s in report["stop_gradients"])


def test_tfp_categorical_sample_names_the_users_sample_call():
    rel, variables, _ = run("tfp_categorical_gather")
    logits, table = variables["logits"], variables["table"]
    assert table["status"] == "flows" and table["why"] == ""
    assert logits["status"] == "blocked" and logits["expected"] is False
    first = logits["blockers"][0]
    assert first["decisive"] is True and first["origin"] == "library:tensorflow_probability"
    assert first["location"] == {"file": rel, "line": 13}
    assert logits["why"].startswith(f"Categorical.sample at {rel}:13: a sample of a discrete distribution")
    assert "RelaxedOneHotCategorical" in first["fix"]


@pytest.mark.slow
def test_sonnet_lstm_truncated_bptt_is_partial_blocking_by_the_users_cut():
    rel, variables, report = run("sonnet_lstm_tbptt")
    lstm = [v for n, v in variables.items() if n.startswith("lstm/")]
    assert lstm and all(v["status"] == "flows" for v in lstm)
    for v in lstm:
        assert 0 < v["paths"]["blocked"] < v["paths"]["total"]
        assert f"paths cut: tf.stop_gradient at {rel}:17" in v["why"], v["why"]
    assert all(v["status"] == "flows" and v["why"] == "" for n, v in variables.items() if n.startswith("readout/"))
    users = [s for s in report["stop_gradients"] if s["origin"] == "user"]
    assert users and all(s["location"] == {"file": rel, "line": 17} and not s["shields"] for s in users)


def test_tf_keras_lambda_round_names_the_backend_call():
    rel, variables, _ = run("tfkeras_round")
    for name in ("enc/kernel", "enc/bias"):
        v = variables[name]
        assert v["status"] == "blocked" and v["expected"] is False
        first = v["blockers"][0]
        assert first["decisive"] is True and first["origin"] == "library:tf_keras" and first["type"] == "Round"
        assert first["location"] == {"file": rel, "line": 8}
        assert v["why"].startswith(f"backend.round at {rel}:8"), v["why"]
    assert variables["dec/kernel"]["status"] == variables["dec/bias"]["status"] == "flows"
    metrics = [v for v in variables.values() if not v["trainable"]]
    assert metrics and all(v["expected"] is True and "metric" in v["why"] for v in metrics)
