"""Differential test: gradflow's per-variable verdict vs TensorFlow's own autodiff.

For every model file in tests/corpus/ the oracle (tests/oracle.py, which never
imports gradflow) asks TensorFlow for the gradient of the loss w.r.t. every
variable; gradflow is run as a user would run it
(`python -m gradflow inspect FILE --format json`). Both run in fresh
subprocesses, because some corpus files switch TensorFlow to graph mode.

Agreement rule, per variable:
    oracle gradient None             <=> gradflow status in {blocked, disconnected}
    oracle gradient a tensor, all 0   => "zero"
    oracle gradient holding NaN/Inf   => "nonfinite"
    oracle gradient otherwise         => "flows"

The harness itself lives in tests/differential.py (tests/test_zoo.py uses it too).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from differential import (  # noqa: F401  (re-exported: the harness used to live here)
    ALL_STATUSES, MARKER, NONE_STATUSES, ORACLE, REPO, TESTS, TIMEOUT,
    assert_agrees, check_blockers, compare, compare_static, expected_statuses,
)

CORPUS = TESTS / "corpus"


# `make test` runs one file per style and cut kind (tests/test_cut_matrix.py covers
# every cut kind in-process too); `make test-all` runs the whole corpus.
REPRESENTATIVE = frozenset({
    "cond_stop_gradient_branch", "cond_variable_one_branch", "cut_argmax", "cut_cast_int_roundtrip",
    "cut_custom_gradient_none", "cut_numpy_function", "cut_stop_gradient_partial", "cut_top_k_sort",
    "cut_where_condition", "embedding_gather", "flow_gradient_reversal", "keras_batchnorm_compiled",
    "keras_unused_head", "nested_tf_function_stop", "nonfinite_sqrt_zero", "style_input_signature",
    "style_keras_subclassed_loss_fn", "style_tf_module_call", "switch_case_cut", "tf1_disable_v2_behavior",
    "tf1_graph_with_feed", "tf1_v1_while_loop_cut", "var_duplicate_names", "while_loop_cut_in_body",
    "zero_dead_relu", "dist_mirrored_variables", "mixed_float16_compiled", "keras2_subclassed_frozen_and_cast",
})


def _corpus_params():
    params = []
    for path in sorted(CORPUS.glob("*.py")):
        slow = path.name.startswith("slow_") or path.stem not in REPRESENTATIVE
        marks = [pytest.mark.slow] if slow else []
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


@pytest.mark.parametrize("model_file", _corpus_params())
def test_gradflow_agrees_with_tensorflow(model_file: Path):
    assert_agrees(os.path.relpath(model_file, REPO))


# ---------------------------------------------------------------------------
# The comparison itself (fast, no TensorFlow, no gradflow).
# ---------------------------------------------------------------------------
_NONE = {"none": True, "all_zero": None, "finite": None}
_FLOW = {"none": False, "all_zero": False, "finite": True}
_ZERO = {"none": False, "all_zero": True, "finite": True}
_NAN = {"none": False, "all_zero": False, "finite": False}


def _entry(name, status, blockers=()):
    return {"name": name, "status": status, "blockers": list(blockers)}


def test_compare_accepts_agreement():
    oracle = {"a": _FLOW, "b": _NONE, "c": _NONE, "d": _ZERO, "e": _NAN}
    report = {"variables": [
        _entry("a", "flows"), _entry("b", "blocked"), _entry("c", "disconnected"),
        _entry("d", "zero"), _entry("e", "nonfinite"),
    ]}
    assert compare(oracle, report) == []


@pytest.mark.parametrize("oracle_answer,status", [
    (_NONE, "flows"), (_NONE, "zero"), (_FLOW, "blocked"), (_FLOW, "zero"),
    (_ZERO, "flows"), (_ZERO, "disconnected"), (_NAN, "flows"),
])
def test_compare_reports_disagreement(oracle_answer, status):
    problems = compare({"v": oracle_answer}, {"variables": [_entry("v", status)]})
    assert len(problems) == 1 and "'v'" in problems[0]


def test_compare_reports_missing_and_extra_variables():
    problems = compare({"a": _FLOW}, {"variables": [_entry("b", "flows")]})
    assert any("'a'" in p for p in problems) and any("'b'" in p for p in problems)


def test_compare_repeated_names_as_multiset():
    oracle = {"w": _FLOW, "w#2": _NONE}
    swapped = {"variables": [_entry("w", "blocked"), _entry("w#2", "flows")]}
    assert compare(oracle, swapped) == []
    wrong = {"variables": [_entry("w", "flows"), _entry("w#2", "flows")]}
    assert compare(oracle, wrong)


def test_check_blockers():
    good = {"variables": [_entry("v", "blocked", [
        {"op": "sg", "type": "StopGradient", "location": {"file": "f.py", "line": 3}}])]}
    assert check_blockers(good) == []
    assert check_blockers({"variables": [_entry("v", "blocked")]})
    no_line = {"variables": [_entry("v", "blocked", [{"type": "Round", "location": None}])]}
    assert check_blockers(no_line)


def test_compare_static_reads_any_tensor_as_flows():
    oracle = {"a": _FLOW, "b": _NONE, "d": _ZERO, "e": _NAN}
    static = {"mode": "static", "numeric_check": False, "variables": [
        _entry("a", "flows"), _entry("b", "blocked"), _entry("d", "flows"), _entry("e", "flows")]}
    assert compare_static(oracle, static) == []
    wrong = dict(static, variables=[_entry("a", "flows"), _entry("b", "flows"),
                                    _entry("d", "zero"), _entry("e", "flows")])
    problems = compare_static(oracle, wrong)
    assert any("'b'" in p for p in problems) and any("'d'" in p for p in problems)
    assert compare_static(oracle, dict(static, mode="full"))
