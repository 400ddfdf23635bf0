"""Baselines (``inspect --baseline``, ``assert_gradients(baseline=...)``) and the static mode.

A baseline records a model's accepted state: green on tests/diff_cases/after_stop_gradient.py
(an encoder frozen on purpose), red when a new regression comes (the argmax case), with
TensorFlow's autodiff (tests/oracle.py) confirming the regression is one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import gradflow
from gradflow.baseline import baseline_text, check_baseline, read_baseline
from gradflow.cli import main
from gradflow.testing import assert_gradients
from oracle import tf_answer

CASES = Path(__file__).resolve().parent / "diff_cases"
FROZEN = str(CASES / "after_stop_gradient.py")


@pytest.fixture(scope="module")
def frozen_report():
    return gradflow.inspect_file(FROZEN)


def test_baseline_file_is_deterministic_and_one_variable_a_line(frozen_report, tmp_path):
    text = baseline_text(frozen_report.to_dict())
    assert text == baseline_text(gradflow.inspect_file(FROZEN).to_dict())
    data = json.loads(text)
    assert data["schema"] == "gradflow.baseline/1"
    names = [v["name"] for v in data["variables"]]
    assert names == sorted(names)
    lines = text.splitlines()
    assert sum(line.strip().startswith('{"name"') for line in lines) == len(names)
    assert '{"name": "encoder", "status": "blocked", "trainable": true, "cuts": ["tf.stop_gradient"]}' in text
    assert "grad_norm" not in text and '"line"' not in text and "timings" not in text


def test_cli_baseline_green_on_intended_freeze_red_on_regression(tmp_path, capsys):
    base = tmp_path / "gradflow-baseline.json"
    assert main(["inspect", FROZEN, "--baseline", str(base), "--format", "json"]) == 2  # none recorded yet
    assert "--update-baseline" in capsys.readouterr().err
    assert main(["inspect", FROZEN, "--baseline", str(base), "--update-baseline", "--format", "json"]) == 0
    written = base.read_text()
    capsys.readouterr()
    # The frozen encoder is accepted, even by --fail-on blocked
    assert main(["inspect", FROZEN, "--baseline", str(base), "--fail-on", "blocked", "--format", "json"]) == 0
    assert "no regression" in capsys.readouterr().err
    # The same baseline against a model where an argmax cuts the head: red
    argmax = str(CASES / "after_argmax.py")
    assert main(["inspect", argmax, "--baseline", str(base), "--format", "json"]) == 1
    err = capsys.readouterr().err
    assert "head: flows -> blocked (regression): ArgMax" in err
    assert tf_answer(argmax)["head"]["none"] and not tf_answer(FROZEN)["head"]["none"]
    assert base.read_text() == written  # checking never rewrites


def test_update_baseline_needs_baseline(capsys):
    assert main(["inspect", FROZEN, "--update-baseline"]) == 2
    assert "--update-baseline needs --baseline" in capsys.readouterr().err


def test_new_trainable_variable_that_does_not_learn_fails(frozen_report):
    recorded = read_baseline_from(baseline_text(frozen_report.to_dict()))
    report = frozen_report.to_dict()
    report["variables"].append({"name": "new_head", "status": "disconnected", "trainable": True})
    check = check_baseline(report, recorded)
    assert [c.name for c in check.failures] == ["new_head"]
    report["variables"][-1]["status"] = "flows"
    assert check_baseline(report, recorded).ok


def read_baseline_from(text: str) -> dict:
    from gradflow.diff import as_report_dict

    return as_report_dict(json.loads(text), "baseline")


def test_assert_gradients_with_baseline(tmp_path, frozen_report):
    base = tmp_path / "b.json"
    with pytest.raises(AssertionError, match="no baseline at"):
        assert_gradients(frozen_report, baseline=base)
    assert_gradients(frozen_report, blocked="encoder", baseline=base, update_baseline=True)
    assert_gradients(frozen_report, baseline=base)
    assert read_baseline(base)["variables"]
    with pytest.raises(AssertionError, match=r"head: flows -> blocked \(regression\)"):
        assert_gradients(str(CASES / "after_argmax.py"), baseline=base)


def test_diff_reads_a_baseline(tmp_path, frozen_report, capsys):
    base = tmp_path / "b.json"
    base.write_text(baseline_text(frozen_report.to_dict()))
    assert main(["diff", str(base), str(CASES / "before.py"), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [(c["name"], c["kind"]) for c in d["changes"]] == [("encoder", "improvement"),
                                                              ("StopGradient", "cut-removed")]


# -- the static mode --------------------------------------------------------------
@pytest.mark.parametrize("case", ["before", "after_stop_gradient", "after_head_detached", "after_argmax"])
def test_static_mode_agrees_with_tensorflow(case):
    path = str(CASES / f"{case}.py")
    report = gradflow.inspect_file(path, static=True)
    oracle = tf_answer(path)
    assert report.mode == "static" and report.numeric is False
    d = report.to_dict()
    assert d["mode"] == "static" and d["numeric_check"] is False
    assert any("static mode" in note for note in d["notes"])
    for v in report.variables:
        assert (v.status.value in ("blocked", "disconnected")) == oracle[v.name]["none"], v.name
        assert v.grad_norm is None
    full = gradflow.inspect_file(path)
    assert full.mode == "full"
    assert [(v.name, v.blockers) for v in full.variables] == [(v.name, v.blockers) for v in report.variables]
