"""The differential harness shared by tests/test_differential.py and tests/test_zoo.py.

For one model file, the oracle (tests/oracle.py, which never imports gradflow)
asks TensorFlow for the gradient of the loss w.r.t. every variable, and gradflow
is run as a user would run it (`python -m gradflow inspect FILE --format json`).
Both run in fresh subprocesses, concurrently, because some model files switch
TensorFlow to graph mode.

Agreement rule, per variable:
    oracle gradient None             <=> gradflow status in {blocked, disconnected}
    oracle gradient a tensor, all 0   => "zero"
    oracle gradient holding NaN/Inf   => "nonfinite"
    oracle gradient otherwise         => "flows"

gradflow's static mode (``inspect --static``: no autodiff, no numeric check) runs
on every file too, in its own process, and must give the same None / not-None
verdicts: oracle None <=> {blocked, disconnected}, any tensor => "flows"
(:func:`compare_static`).

This is a helper module, not a test module: it defines no tests.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
ORACLE = TESTS / "oracle.py"
MARKER = "ORACLE_JSON:"
TIMEOUT = 600

NONE_STATUSES = frozenset({"blocked", "disconnected"})
ALL_STATUSES = frozenset({"flows", "zero", "nonfinite", "blocked", "disconnected"})


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


def _start_gradflow(rel: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gradflow", "inspect", rel, "--format", "json", *extra],
        cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def parse_oracle(rc: int, out: str, err: str, rel: str) -> dict:
    """The oracle's answer from its stdout, or fail the test."""
    for line in out.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    pytest.fail(f"oracle failed (exit {rc}) for {rel}:\n{out[-2000:]}\n{err[-6000:]}")


def parse_gradflow(rc: int, out: str, err: str, rel: str) -> dict:
    """gradflow's JSON report from its stdout, or fail the test."""
    assert rc in (0, 1), f"gradflow exited {rc} on {rel}\n--- stderr ---\n{err[-6000:]}"
    try:
        report = json.loads(out)
    except json.JSONDecodeError as exc:
        pytest.fail(
            f"gradflow stdout is not exactly one JSON object on {rel}: {exc}\n"
            f"--- stdout ---\n{out[:3000]}\n--- stderr ---\n{err[-3000:]}"
        )
    assert isinstance(report, dict), f"gradflow JSON is not an object on {rel}"
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


def static_oracle(oracle: dict) -> dict:
    """The oracle's answers as the static mode must read them: any tensor is "flows"."""
    flows = {"none": False, "all_zero": False, "finite": True}
    return {name: (answer if answer["none"] else flows) for name, answer in oracle.items()}


def compare_static(oracle: dict, report: dict) -> list[str]:
    """Disagreements of a static report (``inspect --static``) with TensorFlow's None / not-None."""
    problems = []
    if report.get("mode") != "static" or report.get("numeric_check") is not False:
        problems.append(f"  static report says mode={report.get('mode')!r} "
                        f"numeric_check={report.get('numeric_check')!r}")
    return problems + [p.replace("gradflow:", "gradflow --static:")
                       for p in compare(static_oracle(oracle), report)]


def check_blockers(report: dict, allow_null_location: bool = False) -> list[str]:
    """Every blocked variable names its cuts: each blocker has a `type` and a line.

    ``allow_null_location``: the model file's cut is created while no line of
    the user's is on the stack (e.g. ``keras.ops.stop_gradient`` on a symbolic
    tensor, replayed by a compiled functional model), so TensorFlow recorded no
    user frame and a null location is right even for a trainable variable.
    """
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
        needs_line = e.get("trainable", True) and not allow_null_location
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


# ---------------------------------------------------------------------------
# One differential run: oracle and gradflow side by side, timed.
# ---------------------------------------------------------------------------
@dataclass
class Run:
    """Both answers for one model file, and how long each subprocess took (wall s).

    ``static``: gradflow's static-mode report on the same file.
    """

    rel: str
    oracle: dict
    report: dict
    oracle_s: float
    gradflow_s: float
    problems: list = field(default_factory=list)
    static: dict | None = None


def _communicate_timed(proc: subprocess.Popen, started: float, box: dict) -> None:
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
        timed_out = False
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        timed_out = True
    box.update(rc=proc.returncode, out=out, err=err, seconds=time.perf_counter() - started,
               timed_out=timed_out)


def run_differential(rel: str, allow_null_location: bool = False) -> Run:
    """Run the oracle and gradflow on `rel` (relative to the repo) concurrently; compare.

    Fails the calling test (pytest.fail / assert) when either subprocess
    crashes, times out or prints no answer; otherwise returns a :class:`Run`
    whose ``problems`` lists every disagreement (empty when all agree).
    ``allow_null_location`` is passed to :func:`check_blockers`.
    """
    boxes = {"oracle": {}, "gradflow": {}, "static": {}}
    started = time.perf_counter()
    procs = {"oracle": _start_oracle(rel), "gradflow": _start_gradflow(rel),
             "static": _start_gradflow(rel, "--static")}
    threads = [
        threading.Thread(target=_communicate_timed, args=(procs[k], started, boxes[k]), daemon=True)
        for k in procs
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    for key, box in boxes.items():
        if box.get("timed_out"):
            pytest.fail(f"{key} timed out after {TIMEOUT}s on {rel}\n{box['err'][-4000:]}")
    g, o = boxes["gradflow"], boxes["oracle"]
    report = parse_gradflow(g["rc"], g["out"], g["err"], rel)
    oracle = parse_oracle(o["rc"], o["out"], o["err"], rel)
    st = boxes["static"]
    static = parse_gradflow(st["rc"], st["out"], st["err"], rel + " (--static)")
    assert oracle, f"oracle found no variables in {rel}"
    return Run(rel, oracle, report, boxes["oracle"]["seconds"], boxes["gradflow"]["seconds"],
               compare(oracle, report) + check_blockers(report, allow_null_location)
               + compare_static(oracle, static) + check_blockers(static, allow_null_location),
               static=static)


def assert_agrees(rel: str, allow_null_location: bool = False) -> Run:
    """run_differential(rel), failing the test with every disagreement listed."""
    run = run_differential(rel, allow_null_location)
    if run.problems:
        pytest.fail(
            f"gradflow disagrees with TensorFlow on {rel}:\n" + "\n".join(run.problems),
            pytrace=False,
        )
    return run
