"""The zoo: real architectures through the differential harness.

Every model file in tests/zoo/ (``_zoo.py`` is their shared helper, not a case)
is run through tests/differential.py exactly like the corpus of
tests/test_differential.py: TensorFlow's own autodiff (tests/oracle.py) and
``gradflow inspect FILE --format json`` side by side, every variable's verdict
compared. The zoo holds twelve ``keras.applications`` architectures
(``weights=None``, smallest input size each accepts, 3 classes, batch 2) and
LSTM / GRU / Bidirectional / MultiHeadAttention / Transformer-encoder models,
each in three files: ``*_train`` (training=True), ``*_infer`` (training=False)
and ``*_frozen`` (a backbone or encoder cut by ``stop_gradient``, or partly
frozen with ``trainable = False``); a few more recurrent cases probe the edges
(an all-padding batch, a stop_gradient inside the RNN's while_loop body and the
same cell unrolled, half of a Bidirectional layer unused, a stateful LSTM).

On top of the harness, a file with a line marked ``# zoo: cut`` (its
``stop_gradient``) gets the contract's finer points checked, which TensorFlow
alone cannot tell apart:

- every float variable TensorFlow gives no gradient, other than the ones the
  loss never reads (names starting ``unused``, BatchNorm moving statistics,
  Dropout seed states), must be ``blocked`` rather than ``disconnected``
  (the loss reads it), with a StopGradient blocker at the marked line;
- every variable named ``unused*`` (a head computed but never used), or
  starting with a prefix listed on a ``# zoo: unread PREFIX ...`` line, must be
  ``disconnected``.

``# zoo: cut (replayed)`` marks a cut that Keras replays from a symbolic
tensor (``keras.ops.stop_gradient`` inside a compiled functional model): no
line of the user's is on the stack when TensorFlow creates that op, so its
blocker's location may be null.

`make test` runs the REPRESENTATIVE cases; `make zoo` and `make test-all` run
all of them. Set GRADFLOW_ZOO_TIMINGS=FILE to append one JSON line per case
(variables, oracle and gradflow wall seconds, gradflow's own stage timings).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from differential import REPO, TESTS, Run, _base, run_differential

ZOO = TESTS / "zoo"

# Cheap cases for `make test`: conv + BatchNorm in training mode (a compiled
# subclassed MobileNetV2, alpha 0.35), a frozen encoder cut by stop_gradient
# with an unused head (LSTM), and attention (a compiled Transformer block).
REPRESENTATIVE = frozenset({"mobilenetv2_train", "lstm_frozen", "transformer_train"})

CUT_MARK = re.compile(r"#\s*zoo:\s*cut(?P<replayed>\s*\(replayed\))?")
UNREAD_MARK = re.compile(r"#\s*zoo:\s*unread\s+(?P<prefixes>.+)$")
# Variables the loss may never read even in a file with a cut: BatchNorm's
# moving statistics in training mode (only assigned), Dropout seed states, and
# an un-adapted Normalization layer's statistics (Keras snapshots them into
# constant tensors at build time, so the loss reads constants, not variables).
UNREAD = re.compile(
    r"(/moving_mean|/moving_variance|seed_generator_state|(^|/)normalization(_\d+)?/(mean|variance|count))$"
)


def _zoo_params():
    params = []
    for path in sorted(ZOO.glob("*.py")):
        if path.name.startswith("_"):
            continue
        marks = [] if path.stem in REPRESENTATIVE else [pytest.mark.slow]
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


def cut_lines(path: Path) -> tuple[list[int], bool]:
    """The lines marked ``# zoo: cut`` and whether any of them is replayed by Keras."""
    lines, replayed = [], False
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        m = CUT_MARK.search(text)
        if m:
            lines.append(number)
            replayed = replayed or bool(m.group("replayed"))
    return lines, replayed


def unread_prefixes(path: Path) -> tuple[str, ...]:
    """``unused`` plus the prefixes listed on ``# zoo: unread ...`` lines."""
    prefixes = ["unused"]
    for text in path.read_text().splitlines():
        m = UNREAD_MARK.search(text)
        if m:
            prefixes.extend(m.group("prefixes").split())
    return tuple(prefixes)


def cut_problems(run: Run, lines: list[int], replayed: bool,
                 unread: tuple[str, ...] = ("unused",)) -> list[str]:
    """blocked-vs-disconnected and the cut's location, for a file with a marked cut."""
    problems = []
    for e in run.report["variables"]:
        name, status = e.get("name", ""), e.get("status")
        base = _base(name)
        if base.startswith(unread):
            if status != "disconnected":
                problems.append(f"  variable {name!r} (never read by the loss): "
                                f"gradflow says {status!r}, expected 'disconnected'")
            continue
        answer = run.oracle.get(name)
        if (answer is None or not answer["none"] or UNREAD.search(base)
                or not str(e.get("dtype", "float")).startswith(("float", "bfloat"))):
            continue
        if status != "blocked":
            problems.append(f"  variable {name!r} is read by the loss and cut at line(s) {lines}: "
                            f"gradflow says {status!r}, expected 'blocked'")
            continue
        cuts = [b for b in e.get("blockers") or [] if b.get("type") == "StopGradient"]
        at_mark = [
            b for b in cuts
            if isinstance(b.get("location"), dict)
            and b["location"].get("file") == run.rel and b["location"].get("line") in lines
        ]
        if not at_mark and not (replayed and cuts):
            problems.append(f"  blocked variable {name!r}: no StopGradient blocker at "
                            f"{run.rel}:{lines}: {json.dumps(e.get('blockers'))[:600]}")
    return problems


def _record(path: Path, run: Run, problems: list[str]) -> None:
    target = os.environ.get("GRADFLOW_ZOO_TIMINGS")
    if not target:
        return
    line = {
        "case": path.stem,
        "variables": len(run.oracle),
        "oracle_s": round(run.oracle_s, 2),
        "gradflow_s": round(run.gradflow_s, 2),
        "gradflow_timings": run.report.get("timings"),
        "summary": run.report.get("summary"),
        "agrees": not problems,
    }
    with open(target, "a") as fh:
        fh.write(json.dumps(line) + "\n")


@pytest.mark.parametrize("model_file", _zoo_params())
def test_zoo_agrees_with_tensorflow(model_file: Path, record_property):
    rel = os.path.relpath(model_file, REPO)
    lines, replayed = cut_lines(model_file)
    run = run_differential(rel, allow_null_location=replayed)
    problems = list(run.problems)
    if lines:
        problems += cut_problems(run, lines, replayed, unread_prefixes(model_file))
    record_property("variables", len(run.oracle))
    record_property("oracle_s", round(run.oracle_s, 2))
    record_property("gradflow_s", round(run.gradflow_s, 2))
    _record(model_file, run, problems)
    if problems:
        pytest.fail(f"gradflow disagrees with TensorFlow on {rel}:\n" + "\n".join(problems),
                    pytrace=False)


# ---------------------------------------------------------------------------
# The zoo's own bookkeeping (fast, no TensorFlow).
# ---------------------------------------------------------------------------
def test_zoo_has_every_architecture_in_every_mode():
    stems = {p.stem for p in ZOO.glob("*.py") if not p.name.startswith("_")}
    archs = {
        "resnet50", "resnet50v2", "mobilenetv2", "mobilenetv3small", "densenet121", "efficientnetb0",
        "efficientnetv2b0", "convnexttiny", "inceptionv3", "xception", "nasnetmobile", "vgg16",
        "lstm", "gru", "bilstm", "mha", "transformer",
    }
    missing = sorted(f"{a}_{m}" for a in archs for m in ("train", "infer", "frozen")
                     if f"{a}_{m}" not in stems)
    assert not missing, f"zoo cases missing: {missing}"
    assert REPRESENTATIVE <= stems


def test_cut_problems_rules():
    rel = "tests/zoo/x.py"
    none = {"none": True, "all_zero": None, "finite": None}
    flow = {"none": False, "all_zero": False, "finite": True}
    at_line = [{"type": "StopGradient", "location": {"file": rel, "line": 7}}]
    elsewhere = [{"type": "StopGradient", "location": {"file": rel, "line": 9}}]
    nowhere = [{"type": "StopGradient", "location": None}]

    def run(entries, oracle):
        return Run(rel, oracle, {"variables": entries}, 0.0, 0.0)

    def entry(name, status, blockers=(), dtype="float32"):
        return {"name": name, "status": status, "blockers": list(blockers), "dtype": dtype}

    good = run(
        [entry("enc/kernel", "blocked", at_line), entry("head/kernel", "flows"),
         entry("unused_head/kernel", "disconnected"), entry("bn/moving_mean", "disconnected"),
         entry("seed_generator/seed_generator_state", "blocked", dtype="int64")],
        {"enc/kernel": none, "head/kernel": flow, "unused_head/kernel": none,
         "bn/moving_mean": none, "seed_generator/seed_generator_state": none},
    )
    assert cut_problems(good, [7], False) == []
    oracle = {"enc/kernel": none}
    assert cut_problems(run([entry("enc/kernel", "disconnected")], oracle), [7], False)
    assert cut_problems(run([entry("enc/kernel", "blocked", elsewhere)], oracle), [7], False)
    assert cut_problems(run([entry("enc/kernel", "blocked", nowhere)], oracle), [7], False)
    assert cut_problems(run([entry("enc/kernel", "blocked", nowhere)], oracle), [7], True) == []
    assert cut_problems(run([entry("unused_head/bias", "blocked", at_line)],
                            {"unused_head/bias": none}), [7], False)
    value = run([entry("mha/value/kernel", "disconnected")], {"mha/value/kernel": none})
    assert cut_problems(value, [7], False)
    assert cut_problems(value, [7], False, ("unused", "mha/value/")) == []
    assert cut_problems(run([entry("normalization/mean", "disconnected")],
                            {"normalization/mean": none}), [7], False) == []


def test_cut_lines(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("a = 1\nb = tf.stop_gradient(a)  # zoo: cut\nc = ops.stop_gradient(b)  # zoo: cut (replayed)\n")
    assert cut_lines(f) == ([2, 3], True)
    f.write_text("a = 1\n")
    assert cut_lines(f) == ([], False)
    assert unread_prefixes(f) == ("unused",)
    f.write_text("# zoo: unread mha/value/ mha/attention_output/\n")
    assert unread_prefixes(f) == ("unused", "mha/value/", "mha/attention_output/")
