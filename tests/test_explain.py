"""`gradflow explain`: every path of one variable, its cuts and fixes."""

from __future__ import annotations

import os

import pytest

from gradflow.analysis import PathCount
from gradflow.cuts import Cut, CutKind
from gradflow.fixes import SHAPE, SOFT, body_of, fix_for
from gradflow.render.terminal import render_text
from gradflow.report import Blocker, Report, Status, StopGradientReport, VariableReport
from gradflow.sources import Location

from conftest import EXAMPLES, MISTAKES, ROOT
from conftest import inspect_at_root as inspect

pytestmark = pytest.mark.usefixtures("at_root")


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
    assert "expected: frozen on purpose" in text and "fix:" not in text  # an expected variable gets no fix
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


@pytest.mark.parametrize("model", ["cut_shape_size.py", "while_loop_cut_in_body.py", "cut_stop_gradient_partial.py"])
def test_explain_and_the_report_count_paths_the_same_way(model):
    """One definition of a path (analysis/paths.py): explain lists as many as the report counts."""
    from gradflow.explain import explain

    report = inspect(EXAMPLES.parent / "tests" / "corpus" / model)
    for v in report.variables:
        exp = explain(report, v.name)
        if exp.enumerated_all and v.status.value != "disconnected":
            assert len(exp.paths) == v.paths.total, (v.name, len(exp.paths), v.paths)
            assert sum(p.cut is not None for p in exp.paths) == v.paths.blocked, v.name
