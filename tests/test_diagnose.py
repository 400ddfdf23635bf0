"""Diagnoses: a fix per cut, expected vs suspicious, `explain`, and the mistakes gallery."""

from __future__ import annotations

import os

import pytest

from gradflow.analysis import PathCount
from gradflow.cuts import Cut, CutKind
from gradflow.fixes import SHAPE, SOFT, body_of, fix_for
from gradflow.render.terminal import render_text
from gradflow.report import Blocker, Report, Status, StopGradientReport, VariableReport
from gradflow.sources import Location

from conftest import EXAMPLES, ROOT

MISTAKES = EXAMPLES / "mistakes"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def inspect(path):
    import gradflow

    return gradflow.inspect_file(os.path.relpath(path, ROOT), strict=True)


# -- fixes, pure -------------------------------------------------------------
def test_fix_per_kind():
    loc = Location("m.py", 3)
    sg = Cut(CutKind.STOP_GRADIENT, "tf.stop_gradient", "StopGradient")
    assert fix_for(sg, "StopGradient", "StopGradient", loc, ("w2", "w3")) == \
        "intended? remove tf.stop_gradient at m.py:3 to let w2, w3 learn"
    assert fix_for(Cut(CutKind.INTEGER_OUTPUT, "ArgMax has no gradient", "ArgMax"), "ArgMax", "ArgMax", loc) == SOFT
    assert fix_for(Cut(CutKind.NOT_DIFFERENTIABLE, "Equal has no gradient"), "Equal", "Equal", loc) == SOFT
    assert fix_for(Cut(CutKind.NONE_GRADIENT, "Round's gradient is None"), "Round", "Round", loc).startswith(
        "straight-through estimator: x + tf.stop_gradient(tf.round(x) - x)")
    assert "tf.math.floor(x) - x" in fix_for(Cut(CutKind.NONE_GRADIENT, ""), "Floor", "Floor", loc)
    cast = Cut(CutKind.INTEGER_OUTPUT, "cast to int32 is not differentiable", "Cast", "int32")
    assert "tf.round(x) - x" in fix_for(cast, "Cast", "Cast", loc)
    assert "tf.py_function" in fix_for(Cut(CutKind.NOT_DIFFERENTIABLE, ""), "PyFunc", "PyFunc", loc)
    custom = Cut(CutKind.CUSTOM_GRADIENT, "custom gradient 'quantize' returns None for this input", "IdentityN",
                 custom_gradient="quantize")
    assert fix_for(custom, "IdentityN", "IdentityN", loc).startswith(
        "grad_fn of 'quantize' at m.py:3 returns None for this input")
    assert fix_for(Cut(CutKind.SHAPE_ONLY, ""), "Shape", "Shape", loc) == SHAPE
    int_var = Cut(CutKind.INTEGER_OUTPUT, "the variable is int32: ...", "VarHandleOp", "int32", variable=True)
    assert fix_for(int_var, "VarHandleOp", "v", loc).startswith("make the variable a float dtype")


def test_fix_names_the_body():
    assert body_of("Round") == ""
    assert body_of("cond[then]/Round") == "the true branch of tf.cond 'cond'"
    assert body_of("case[branch2]/x") == "branch 2 of tf.switch_case 'case'"
    assert body_of("while[body]/c[else]/Floor") == \
        "the false branch of tf.cond 'c' in the body of tf.while_loop 'while'"
    fix = fix_for(Cut(CutKind.NONE_GRADIENT, ""), "Round", "cond[then]/Round", Location("m.py", 9))
    assert fix.startswith("cut inside the true branch of tf.cond 'cond': Round at m.py:9; straight-through")


def test_terminal_lists_fixes_after_the_table():
    sg = Blocker("StopGradient", "StopGradient", Location("m.py", 14), "tf.stop_gradient", "stop_gradient",
                 fix="intended? remove tf.stop_gradient at m.py:14 to let w2 learn")
    v = VariableReport(name="w2", shape=(1,), dtype="float32", trainable=True, status=Status.BLOCKED,
                       grad_norm=None, paths=PathCount(1, 1), blockers=(sg,), why="tf.stop_gradient at m.py:14")
    report = Report(source="m.py", target="loss", kind="callable", inputs="", variables=(v,),
                    stop_gradients=(StopGradientReport("StopGradient", sg.location, ("w2",)),))
    lines = [line.rstrip() for line in render_text(report, width=120).splitlines()]
    i = lines.index("fixes:")
    assert lines[i - 2].startswith("w2 ") and "trainable variable" in lines[2]
    assert lines[i + 1] == ("  w2 · StopGradient at m.py:14: intended? remove tf.stop_gradient at m.py:14 "
                            "to let w2 learn")
    assert report.to_dict()["variables"][0]["blockers"][0]["fix"].startswith("intended?")


# -- fixes, through TensorFlow -------------------------------------------------
def test_stop_gradient_fix_names_the_shielded_variables():
    report = inspect(EXAMPLES / "stop_gradient.py")
    (b,) = report.variable("w2").blockers
    assert b.fix == "intended? remove tf.stop_gradient at examples/stop_gradient.py:14 to let w2, w3 learn"
    assert report.to_dict()["variables"][1]["blockers"][0]["fix"] == b.fix


def test_argmax_fix():
    report = inspect(EXAMPLES / "mistakes_argmax.py")
    b = report.variable("hidden/kernel").blockers[0]
    assert b.type == "ArgMax" and b.fix == SOFT


# -- expected vs suspicious ----------------------------------------------------
def test_expected_fields():
    from gradflow.verdict import expectation

    sg = Blocker("sg", "StopGradient", Location("m.py", 3), "tf.stop_gradient", "stop_gradient")
    am = Blocker("am", "ArgMax", Location("m.py", 4), "ArgMax has no gradient", "integer_output")
    assert expectation(Status.FLOWS, True, ()) == (None, "")
    assert expectation(Status.BLOCKED, True, (sg,))[0] is True
    assert "frozen on purpose" in expectation(Status.BLOCKED, True, (sg,))[1]
    assert expectation(Status.BLOCKED, True, (sg, am))[0] is False
    assert expectation(Status.BLOCKED, True, (am,))[0] is False
    assert expectation(Status.DISCONNECTED, True, ())[0] is False
    assert "unused head" in expectation(Status.DISCONNECTED, True, ())[1]
    assert expectation(Status.DISCONNECTED, False, ())[0] is True
    assert expectation(Status.ZERO, False, ())[0] is True


def test_fail_on_ignores_expected_only_when_asked(run_cli):
    proc = run_cli("inspect", "examples/stop_gradient.py", "--format", "json", "--fail-on", "blocked",
                   "--ignore-expected")
    assert proc.returncode == 0, proc.stderr
    assert "ignored expected (--ignore-expected): w2 (blocked), w3 (blocked)" in proc.stderr
    v = {x["name"]: x for x in __import__("json").loads(proc.stdout)["variables"]}
    assert v["w2"]["expected"] is True and "frozen on purpose" in v["w2"]["expected_reason"]
    assert v["w1"]["expected"] is None
    proc = run_cli("inspect", "examples/stop_gradient.py", "--fail-on", "blocked")
    assert proc.returncode == 1  # the contract: any trainable match fails


# -- explain -------------------------------------------------------------------
def test_explain_one_variable():
    from gradflow.explain import explain, explain_text

    report = inspect(EXAMPLES / "stop_gradient.py")
    exp = explain(report, "w2")
    assert len(exp.paths) == 1 and exp.paths[0].cut.type == "StopGradient"
    text = explain_text(report, "w2", width=100)
    assert all(len(line) <= 100 for line in text.splitlines())
    assert "w2  ✗ blocked" in text
    assert "StopGradient ✗" in text and "(loss)" in text
    assert "StopGradient at examples/stop_gradient.py:14: tf.stop_gradient" in text
    assert "fix: intended? remove tf.stop_gradient" in text
    both = explain_text(report, "w[23]")
    assert "w2  ✗" in both and "w3  ✗" in both and "w1" not in both
    with pytest.raises(KeyError, match="no variable matches"):
        explain_text(report, "nope*")
    from rich.console import Console

    console = Console(width=100, color_system=None)
    with console.capture() as cap:
        console.print(report.explain("w1"))
    assert "w1  ✓ flows" in cap.get() and "grad norm 4.07" in cap.get()


def test_explain_collapses_many_paths(tmp_path):
    import gradflow
    from gradflow.explain import explain, explain_text

    model = tmp_path / "many.py"
    model.write_text(
        "import tensorflow as tf\n"
        "w = tf.Variable(tf.ones([3]), name='w')\n"
        "def loss():\n"
        "    total = tf.constant(0.0)\n"
        "    for i in range(8):\n"
        "        total += tf.reduce_sum(w * float(i))\n"
        "    total += tf.reduce_sum(tf.stop_gradient(w * 2.0))\n"
        "    return total\n"
    )
    report = gradflow.inspect_file(str(model))
    exp = explain(report, "w")
    assert len(exp.paths) == 9 and sum(p.cut is not None for p in exp.paths) == 1
    text = explain_text(report, "w")
    assert "9 paths, grouped by where they die:" in text
    assert "✓ 8 open, e.g." in text and "✗ 1 cut at StopGradient" in text


def test_explain_cli_unknown_variable_exits_2(run_cli):
    proc = run_cli("explain", "examples/stop_gradient.py", "nope")
    assert proc.returncode == 2
    assert "no variable matches 'nope'; variables: w1, w2, w3" in proc.stderr


# -- the mistakes gallery (examples/mistakes, docs/mistakes.md) ------------------
def line_of(path, text):
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


MISTAKE_CASES = [
    # file, variable, status, cut type, kind, line marker, fix starts with, expected
    ("argmax_in_loss.py", "w", "blocked", "ArgMax", "integer_output", "# the mistake", SOFT, False),
    ("round_without_ste.py", "scale", "blocked", "Round", "none_gradient", "# the mistake",
     "straight-through estimator: x + tf.stop_gradient(tf.round(x) - x)", False),
    ("int_cast.py", "scale", "blocked", "Cast", "integer_output", "# the mistake",
     "straight-through estimator: x + tf.stop_gradient(tf.round(x) - x)", False),
    ("numpy_function.py", "w", "blocked", "PyFunc", "not_differentiable", "# the mistake",
     "keep the computation in TensorFlow ops, or use tf.py_function (differentiable)", False),
    ("custom_gradient_none.py", "w", "blocked", "IdentityN", "custom_gradient", "clip(x @ w)",
     "grad_fn of 'clip' at examples/mistakes/custom_gradient_none.py:", False),
    ("stop_gradient_wrong_tensor.py", "online", "blocked", "StopGradient", "stop_gradient", "# the mistake",
     "intended? remove tf.stop_gradient at examples/mistakes/stop_gradient_wrong_tensor.py:", True),
    ("unused_head.py", "aux_head", "disconnected", None, None, None, None, False),
]


@pytest.mark.parametrize("case", MISTAKE_CASES, ids=[c[0] for c in MISTAKE_CASES])
def test_mistake_is_diagnosed(case):
    file, name, status, op_type, kind, marker, fix, expected = case
    path = MISTAKES / file
    report = inspect(path)
    v = report.variable(name)
    assert v.status == status
    assert v.expected is expected and v.expected_reason
    if op_type is None:
        assert not v.blockers and "unused head" in v.expected_reason
        return
    (b,) = v.blockers
    assert (b.type, b.kind) == (op_type, kind)
    assert b.location.file == f"examples/mistakes/{file}" and b.location.line == line_of(path, marker)
    assert b.reason and b.fix.startswith(fix)
    assert report.to_dict()["variables"][[x.name for x in report.variables].index(name)]["blockers"][0]["fix"] == b.fix


def test_mistake_stop_gradient_wrong_tensor_names_what_learns_instead():
    report = inspect(MISTAKES / "stop_gradient_wrong_tensor.py")
    assert report.status("target") == "flows"
    assert report.variable("online").blockers[0].fix.endswith("to let online learn")


def test_batchnorm_moving_statistics_are_expected():
    report = inspect(MISTAKES / "bn_moving_stats.py")
    for v in report.variables:
        if "moving_" in v.name:
            assert not v.trainable and v.status != "flows"
            assert v.expected is True and "not trainable" in v.expected_reason
        else:
            assert v.status == "flows" and v.expected is None
            # Keras's own stop_gradient in the moments: not the user's, and said so
            assert all("not in your code" in b.fix for b in v.blockers if b.kind == "stop_gradient")


def test_fix_names_the_cond_branch_through_tensorflow(tmp_path):
    import gradflow

    model = tmp_path / "branchy.py"
    model.write_text(
        "import tensorflow as tf\n"
        "s = tf.Variable(2.0, name='s')\n"
        "@tf.function\n"
        "def loss(x):\n"
        "    y = tf.cond(tf.reduce_sum(x) > -1e9, lambda: tf.round(x * s), lambda: x * 0.0)\n"
        "    return tf.reduce_sum(y)\n"
        "example_inputs = (tf.ones([2, 3]),)\n"
    )
    report = gradflow.inspect_file(str(model))
    (b,) = report.variable("s").blockers
    assert "[then]" in b.op and b.type == "Round"
    assert b.fix.startswith("cut inside the true branch of tf.cond")
    assert f"Round at {model}:5; straight-through estimator" in b.fix
