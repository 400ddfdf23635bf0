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
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
CORPUS = TESTS / "corpus"
ORACLE = TESTS / "oracle.py"
MARKER = "ORACLE_JSON:"
TIMEOUT = 600

NONE_STATUSES = frozenset({"blocked", "disconnected"})
ALL_STATUSES = frozenset({"flows", "zero", "nonfinite", "blocked", "disconnected"})


# `make test` runs one file per style and cut kind (tests/test_cut_matrix.py covers
# every cut kind in-process too); `make test-all` runs the whole corpus.
REPRESENTATIVE = frozenset({
    "cond_stop_gradient_branch", "cond_variable_one_branch", "cut_argmax", "cut_cast_int_roundtrip",
    "cut_custom_gradient_none", "cut_numpy_function", "cut_stop_gradient_partial", "cut_top_k_sort",
    "cut_where_condition", "embedding_gather", "flow_gradient_reversal", "keras_batchnorm_compiled",
    "keras_unused_head", "nested_tf_function_stop", "nonfinite_sqrt_zero", "style_input_signature",
    "style_keras_subclassed_loss_fn", "style_tf_module_call", "switch_case_cut", "tf1_disable_v2_behavior",
    "tf1_graph_with_feed", "tf1_v1_while_loop_cut", "var_duplicate_names", "while_loop_cut_in_body",
    "zero_dead_relu",
})


def _corpus_params():
    params = []
    for path in sorted(CORPUS.glob("*.py")):
        slow = path.name.startswith("slow_") or path.stem not in REPRESENTATIVE
        marks = [pytest.mark.slow] if slow else []
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


def _env(with_src: bool = True):
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("CUDA_VISIBLE_DEVICES", "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONHASHSEED"] = "0"
    if not with_src:
        return env
    src = str(REPO / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _start_oracle(rel: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ORACLE), rel],
        cwd=REPO, env=_env(with_src=False), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _start_gradflow(rel: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gradflow", "inspect", rel, "--format", "json"],
        cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _finish(proc: subprocess.Popen):
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"subprocess timed out after {TIMEOUT}s: {proc.args}\n{err[-4000:]}")
    return proc.returncode, out, err


def _oracle_result(proc) -> dict:
    rc, out, err = _finish(proc)
    for line in out.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    pytest.fail(f"oracle failed (exit {rc}) for {proc.args[-1]}:\n{out[-2000:]}\n{err[-6000:]}")


def _gradflow_result(proc) -> dict:
    rc, out, err = _finish(proc)
    where = proc.args[4]
    assert rc in (0, 1), f"gradflow exited {rc} on {where}\n--- stderr ---\n{err[-6000:]}"
    try:
        report = json.loads(out)
    except json.JSONDecodeError as exc:
        pytest.fail(
            f"gradflow stdout is not exactly one JSON object on {where}: {exc}\n"
            f"--- stdout ---\n{out[:3000]}\n--- stderr ---\n{err[-3000:]}"
        )
    assert isinstance(report, dict), f"gradflow JSON is not an object on {where}"
    assert report.get("schema") == "gradflow.report/1", report.get("schema")
    assert isinstance(report.get("variables"), list), "report has no `variables` list"
    return report


def expected_statuses(answer: dict) -> frozenset:
    """The gradflow statuses that agree with one oracle answer."""
    if answer["none"]:
        return NONE_STATUSES
    if answer["all_zero"]:
        return frozenset({"zero"})
    if not answer["finite"]:
        return frozenset({"nonfinite"})
    return frozenset({"flows"})


def _oracle_label(answer: dict) -> str:
    if answer["none"]:
        return "None"
    if answer["all_zero"]:
        return "tensor (all zero)"
    if not answer["finite"]:
        return "tensor (non-finite)"
    return "tensor (finite, non-zero)"


_DUP = re.compile(r"#\d+$")


def _base(name: str) -> str:
    return _DUP.sub("", name)


def _groups(names):
    out: dict[str, list[str]] = {}
    for n in names:
        out.setdefault(_base(n), []).append(n)
    return out


def _describe(name, answer, entry) -> str:
    lines = [f"  variable {name!r}:"]
    lines.append(f"    oracle (TensorFlow): {_oracle_label(answer) if answer else 'absent'} {answer}")
    if entry is None:
        lines.append("    gradflow: absent")
    else:
        lines.append(
            f"    gradflow: status={entry.get('status')!r} grad_norm={entry.get('grad_norm')!r} "
            f"paths={entry.get('paths')!r}"
        )
        lines.append(f"    gradflow blockers: {json.dumps(entry.get('blockers'), indent=None)}")
    return "\n".join(lines)


def compare(oracle: dict, report: dict) -> list[str]:
    """Return a list of human-readable disagreements (empty when all agree)."""
    problems: list[str] = []
    entries = {}
    for e in report["variables"]:
        name = e.get("name")
        if name in entries:
            problems.append(f"  gradflow reports variable {name!r} twice")
        entries[name] = e
        if e.get("status") not in ALL_STATUSES:
            problems.append(f"  variable {name!r}: unknown gradflow status {e.get('status')!r}")

    o_groups = _groups(oracle)
    g_groups = _groups(entries)
    for base in sorted(set(o_groups) | set(g_groups)):
        o_names = o_groups.get(base, [])
        g_names = g_groups.get(base, [])
        if len(o_names) != len(g_names):
            problems.append(
                f"  variable set differs for {base!r}: oracle has {o_names}, gradflow has {g_names}"
            )
            for n in o_names:
                if n not in entries:
                    problems.append(_describe(n, oracle[n], None))
            for n in g_names:
                if n not in oracle:
                    problems.append(_describe(n, None, entries[n]))
            continue
        if len(o_names) == 1:
            n_o, n_g = o_names[0], g_names[0]
            if entries[n_g].get("status") not in expected_statuses(oracle[n_o]):
                problems.append(_describe(n_o, oracle[n_o], entries[n_g]))
            continue
        # Repeated names ("w", "w#2", ...): the numbering order is the tool's
        # choice, so compare the group as a multiset of verdicts.
        want = [expected_statuses(oracle[n]) for n in o_names]
        got = [entries[n].get("status") for n in g_names]
        if not any(all(s in w for s, w in zip(perm, want)) for perm in itertools.permutations(got)):
            problems.append(f"  repeated name {base!r}: no matching between oracle and gradflow")
            problems.extend(_describe(n, oracle[n], entries.get(n)) for n in o_names)
    return problems


def check_blockers(report: dict) -> list[str]:
    problems = []
    for e in report["variables"]:
        if e.get("status") != "blocked":
            continue
        name = e.get("name")
        blockers = e.get("blockers")
        if not blockers:
            problems.append(f"  blocked variable {name!r} has no blockers: {blockers!r}")
            continue
        # The contract allows a null location where TensorFlow recorded no user
        # frame (a compiled Keras model's own Dropout seed); a trainable
        # variable's cut must always name its line.
        needs_line = e.get("trainable", True)
        for b in blockers:
            loc = b.get("location") if isinstance(b, dict) else None
            has_line = isinstance(loc, dict) and isinstance(loc.get("line"), int) and not isinstance(loc.get("line"), bool)
            ok = (
                isinstance(b, dict)
                and isinstance(b.get("type"), str) and b.get("type")
                and (has_line or (loc is None and not needs_line))
            )
            if not ok:
                problems.append(
                    f"  blocked variable {name!r}: malformed blocker (needs `type` and "
                    f"`location.line` int): {json.dumps(b)}"
                )
    return problems


@pytest.mark.parametrize("model_file", _corpus_params())
def test_gradflow_agrees_with_tensorflow(model_file: Path):
    rel = os.path.relpath(model_file, REPO)
    oracle_proc = _start_oracle(rel)
    gradflow_proc = _start_gradflow(rel)
    try:
        report = _gradflow_result(gradflow_proc)
        oracle = _oracle_result(oracle_proc)
    finally:
        for proc in (oracle_proc, gradflow_proc):
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert oracle, f"oracle found no variables in {rel}"

    problems = compare(oracle, report) + check_blockers(report)
    if problems:
        pytest.fail(
            f"gradflow disagrees with TensorFlow on {rel}:\n" + "\n".join(problems),
            pytrace=False,
        )


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
