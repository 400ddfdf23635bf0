"""gradflow.testing.assert_gradients and the ``gradflow`` pytest fixture."""

from __future__ import annotations

import pytest
import tensorflow as tf

from gradflow.testing import assert_gradients
from conftest import EXAMPLES


def test_stop_gradient_example_passes():
    report = assert_gradients(str(EXAMPLES / "stop_gradient.py"), flows=["w1"], blocked=["w2", "w3"])
    assert report.status("w1") == "flows"


def test_unused_head_with_globs(gradflow):
    gradflow.assert_gradients(EXAMPLES / "unused_head.py",
                              flows=["trunk/*", "main/*"], disconnected="aux/*")


def test_failure_lists_each_differing_variable_with_blocker_and_line():
    with pytest.raises(AssertionError) as info:
        assert_gradients(str(EXAMPLES / "stop_gradient.py"), flows=["w*"])
    msg = str(info.value)
    assert "w1" not in [ln.split(":")[0].strip(" -") for ln in msg.splitlines() if "expected" in ln]
    assert "w2: expected flows (via 'w*'), got blocked" in msg
    assert "w3: expected flows (via 'w*'), got blocked" in msg
    assert "StopGradient" in msg and "tf.stop_gradient" in msg
    assert "stop_gradient.py:14" in msg


def test_pattern_matching_nothing_fails():
    with pytest.raises(AssertionError, match=r"'teacher/\*' \(expected blocked\) matches no variable"):
        assert_gradients(str(EXAMPLES / "stop_gradient.py"), flows=["w1"], blocked=["teacher/*"])
    with pytest.raises(AssertionError, match="'w4' .* matches no variable"):
        assert_gradients(str(EXAMPLES / "stop_gradient.py"), blocked="w4")


def test_python_callable_target():
    student = tf.Variable(1.0, name="student/w")
    teacher = tf.Variable(2.0, name="teacher/w")
    unused = tf.Variable(3.0, name="unused")

    def loss(x):
        return tf.reduce_sum(x * student - tf.stop_gradient(x * teacher))

    x = tf.ones([3])
    assert_gradients(loss, x, variables=[student, teacher, unused],
                     flows="student/*", blocked="teacher/*", disconnected=["unused"])
    with pytest.raises(AssertionError, match="teacher/w: expected flows"):
        assert_gradients(loss, x, variables=[student, teacher], flows=["*"])


def test_int_cast_blocker_named():
    with pytest.raises(AssertionError) as info:
        assert_gradients(str(EXAMPLES / "int_cast.py"), flows=["scale", "w"])
    msg = str(info.value)
    assert "scale: expected flows, got blocked" in msg
    assert "Cast" in msg and "int_cast.py:" in msg
    assert "w: expected" not in msg
