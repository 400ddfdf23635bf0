"""Fixes: one suggestion per cut, from the Cut's fields (pure) and through TensorFlow."""

from __future__ import annotations

import os

import pytest
import tensorflow as tf

from gradflow.analysis import PathCount
from gradflow.cuts import Cut, CutKind
from gradflow.fixes import SHAPE, SOFT, body_of, fix_for
from gradflow.render.terminal import render_text
from gradflow.report import Blocker, Report, Status, StopGradientReport, VariableReport
from gradflow.sources import Location

from conftest import EXAMPLES, MISTAKES, ROOT
from conftest import inspect_at_root as inspect

pytestmark = pytest.mark.usefixtures("at_root")


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
def test_a_freeze_on_purpose_gets_no_fix():
    report = inspect(EXAMPLES / "stop_gradient.py")
    (b,) = report.variable("w2").blockers
    assert (b.decisive, b.origin) == (True, "user") and report.variable("w2").expected is True
    assert b.fix == "" and report.to_dict()["variables"][1]["blockers"][0]["fix"] == ""


def test_stop_gradient_fix_when_it_is_not_the_only_decisive_cut(tmp_path):
    # w reaches the loss twice: through the user's stop_gradient and through an argmax.
    # Neither alone decides, so w is not frozen on purpose, and each cut gets its fix.
    model = tmp_path / "model.py"
    model.write_text(
        "import tensorflow as tf\n"
        "w = tf.Variable(tf.ones([3, 3]), name='w')\n"
        "x = tf.constant([[1.0, 2.0, 3.0]])\n"
        "@tf.function\n"
        "def loss():\n"
        "    h = x @ w\n"
        "    a = tf.reduce_sum(tf.stop_gradient(h))\n"
        "    b = tf.cast(tf.argmax(h, axis=1), tf.float32)\n"
        "    return a + tf.reduce_sum(b) + tf.reduce_sum(x)\n")
    report = inspect(model)
    with tf.GradientTape() as tape:  # the oracle
        h = tf.constant([[1.0, 2.0, 3.0]]) @ (w := tf.Variable(tf.ones([3, 3])))
        out = tf.reduce_sum(tf.stop_gradient(h)) + tf.reduce_sum(tf.cast(tf.argmax(h, axis=1), tf.float32))
    assert tape.gradient(out, w) is None
    v = report.variable("w")
    assert v.status == "blocked" and v.expected is False
    fixes = {b.type: b.fix for b in v.blockers if b.decisive}
    assert fixes["StopGradient"].startswith("intended? remove tf.stop_gradient at ")
    assert fixes["StopGradient"].endswith("model.py:7 to let w learn")
    assert any(t != "StopGradient" and f for t, f in fixes.items())


def test_argmax_fix():
    report = inspect(EXAMPLES / "mistakes_argmax.py")
    b = report.variable("hidden/kernel").blockers[0]
    assert b.type == "ArgMax" and b.fix == SOFT


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
