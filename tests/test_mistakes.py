"""The mistakes gallery (examples/mistakes, docs/mistakes.md): each mistake diagnosed with its cut, line and fix."""

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
     "", True),
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
    assert b.reason and b.fix.startswith(fix) and (b.fix == "") is expected  # expected: no fix
    assert report.to_dict()["variables"][[x.name for x in report.variables].index(name)]["blockers"][0]["fix"] == b.fix


def test_mistake_stop_gradient_wrong_tensor_names_what_learns_instead():
    report = inspect(MISTAKES / "stop_gradient_wrong_tensor.py")
    assert report.status("target") == "flows"
    (cut,) = report.stop_gradients  # the freeze is listed among the user's cuts, with what it freezes
    assert cut.origin == "user" and cut.shields == ("online",)
    assert "tf.stop_gradient at examples/mistakes/stop_gradient_wrong_tensor.py:16 · every path of online" \
        in render_text(report, width=120)


def test_batchnorm_moving_statistics_are_expected():
    report = inspect(MISTAKES / "bn_moving_stats.py")
    for v in report.variables:
        if "moving_" in v.name:
            assert not v.trainable and v.status != "flows"
            assert v.expected is True and "not trainable" in v.expected_reason
        else:
            assert v.status == "flows" and v.expected is None
            # Keras's own stop_gradient in the moments: not the user's, and said so
            sgs = [b for b in v.blockers if b.kind == "stop_gradient"]
            assert all(b.origin == "library:keras" and "by design inside keras" in b.fix for b in sgs)
            assert "tf.stop_gradient" not in v.why and "paths cut" not in v.why
