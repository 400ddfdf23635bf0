"""Differential test: gradflow's verdict against tf.GradientTape, one cut kind per case.

In the style of TensorFlow's own ``testStopGradients``: the expected answer is
never typed in; each case computes TensorFlow's gradients itself and checks
gradflow against them, then checks the explanation names the right op type.
The oracle runs first, so gradflow also sees functions whose cond/while ops
TensorFlow has already rewritten for a backward pass.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import gradflow

V = tf.Variable([[1.0, -2.0], [0.5, 3.0]], name="v")
U = tf.Variable([0.3, -0.7], name="u")
STEP = tf.Variable(3, name="step")
X = tf.constant([[1.0, 2.0], [3.0, -1.0]])
VARIABLES = [V, U, STEP]


@tf.custom_gradient
def quantize(t):
    def grad(dy):
        return None

    return tf.round(t), grad


@tf.custom_gradient
def reverse_gradient(t):
    def grad(dy):
        return -dy

    return tf.identity(t), grad


def ste(q):
    return q + tf.stop_gradient(tf.round(q) - q)


def loop_body(i, a):
    return i + 1, a * U


def sg_loop_body(i, a):
    return i + 1, a * tf.stop_gradient(U)


def take_then(c):
    return tf.reduce_sum(tf.stop_gradient(V)) if c else tf.reduce_sum(V)


@tf.function
def nested_with_stop(t):
    return tf.stop_gradient(t * U) + t


# name -> (loss function, {variable name: op type that must be among its blockers})
CASES = {
    "stop_gradient": (lambda: tf.reduce_sum(tf.stop_gradient(X @ V) + U), {"v": "StopGradient"}),
    "straight_through": (lambda: tf.reduce_sum(ste(X @ V)), {}),
    "argmax": (lambda: tf.reduce_sum(tf.cast(tf.argmax(X @ V, axis=1), tf.float32)) + tf.reduce_sum(U), {"v": "ArgMax"}),
    "round": (lambda: tf.reduce_sum(tf.round(X @ V)), {"v": "Round"}),
    "floor": (lambda: tf.reduce_sum(tf.floor(V)) + tf.reduce_sum(U), {"v": "Floor"}),
    "sign_is_zero": (lambda: tf.reduce_sum(tf.sign(V)), {}),
    "cast_int": (lambda: tf.reduce_sum(tf.cast(tf.cast(V, tf.int32), tf.float32)), {"v": "Cast"}),
    "cast_bool": (lambda: tf.reduce_sum(tf.cast(tf.cast(V, tf.bool), tf.float32)), {"v": "Cast"}),
    "cast_float16_passes": (lambda: tf.reduce_sum(tf.cast(tf.cast(V, tf.float16), tf.float32)), {}),
    "where_condition": (lambda: tf.reduce_sum(tf.where(V > 0, X, -X)), {"v": "Greater"}),
    "where_values": (lambda: tf.reduce_sum(tf.where(X > 0, V, U[0])), {}),
    "equal": (lambda: tf.reduce_sum(tf.cast(tf.equal(V, 1.0), tf.float32)), {"v": "Equal"}),
    "one_hot_argmax": (lambda: tf.reduce_sum(tf.one_hot(tf.argmax(V, axis=1), 2) * X), {"v": "ArgMax"}),
    "numpy_function": (lambda: tf.reduce_sum(tf.numpy_function(lambda a: a * 2, [V], tf.float32)) + tf.reduce_sum(U), {"v": "PyFunc"}),
    "py_function_differentiable": (lambda: tf.reduce_sum(tf.py_function(lambda a: a * 2, [V], tf.float32)), {}),
    "custom_gradient_none": (lambda: tf.reduce_sum(quantize(X @ V)) + tf.reduce_sum(U), {"v": "IdentityN"}),
    "gradient_reversal": (lambda: tf.reduce_sum(reverse_gradient(X @ V)), {}),
    "cond_branch_stop": (lambda: tf.cond(tf.reduce_sum(X) > 0, lambda: take_then(True), lambda: take_then(False)) + tf.reduce_sum(U), {}),
    "cond_untaken_branch": (lambda: tf.cond(tf.reduce_sum(X) > 0, lambda: tf.reduce_sum(X), lambda: tf.reduce_sum(V)), {}),
    "cond_predicate": (lambda: tf.cond(tf.reduce_sum(V) > 0, lambda: tf.reduce_sum(X), lambda: -tf.reduce_sum(X)) + tf.reduce_sum(U), {"v": "Greater"}),
    "while_loop": (lambda: tf.reduce_sum(tf.while_loop(lambda i, a: i < 3, loop_body, (0, tf.ones([2])))[1]), {}),
    "while_loop_stop": (lambda: tf.reduce_sum(tf.while_loop(lambda i, a: i < 3, sg_loop_body, (0, tf.ones([2])))[1]) + tf.reduce_sum(V), {}),
    "switch_case": (lambda: tf.switch_case(tf.constant(1), [lambda: tf.reduce_sum(V), lambda: tf.reduce_sum(tf.round(V))]) + tf.reduce_sum(U), {}),
    "switch_case_all_round": (lambda: tf.switch_case(tf.constant(0), [lambda: tf.reduce_sum(tf.round(V)), lambda: tf.reduce_sum(tf.floor(V))]) + tf.reduce_sum(U), {"v": "Round"}),
    "nested_function": (lambda: tf.reduce_sum(nested_with_stop(V[0])), {"u": "StopGradient"}),
    "int_variable": (lambda: tf.cast(STEP, tf.float32) * tf.reduce_sum(V), {"step": "ReadVariableOp"}),
    "nan": (lambda: tf.reduce_sum(tf.sqrt(V - V)), {}),
    "dead_relu": (lambda: tf.reduce_sum(tf.nn.relu(V - 10.0)), {}),
    "gather_indexed_slices": (lambda: tf.reduce_sum(tf.gather(V, [0])) + tf.reduce_sum(tf.nn.embedding_lookup(U, [1, 1])), {}),
    "unused": (lambda: tf.reduce_sum(X), {}),
    "assign_only": (lambda: (U.assign(U * 1.0), tf.reduce_sum(V))[1], {}),
    "shape_only": (lambda: tf.cast(tf.shape(tf.numpy_function(lambda a: a, [V], tf.float32))[0], tf.float32) + tf.reduce_sum(U), {"v": "PyFunc"}),
}


def tensorflow_answer(fn):
    """TensorFlow's own verdict per variable name: None / zero / nonfinite / flows."""
    floats = [v for v in VARIABLES if v.dtype.is_floating]
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(floats)
        loss = fn()
    grads = tape.gradient(loss, floats)
    answer = {"step": None}
    for var, grad in zip(floats, grads):
        name = var.name[:-2]
        if grad is None:
            answer[name] = None
            continue
        value = tf.convert_to_tensor(grad).numpy()
        if not np.all(np.isfinite(value)):
            answer[name] = "nonfinite"
        elif not np.any(value):
            answer[name] = "zero"
        else:
            answer[name] = "flows"
    return answer


@pytest.mark.parametrize("case", sorted(CASES))
def test_verdicts_agree_with_tensorflow(case):
    body, expected_blockers = CASES[case]
    fn = tf.function(body)
    truth = tensorflow_answer(fn)
    report = gradflow.inspect(fn, name=case, variables=VARIABLES, strict=True)
    for var in report.variables:
        tf_says = truth[var.name]
        if tf_says is None:
            assert var.status in ("blocked", "disconnected"), (var.name, var.status, var.blockers)
        else:
            assert var.status == tf_says, (var.name, tf_says, var.status, var.why)
        if var.status == "blocked":
            assert var.blockers, f"{var.name} is blocked but no cut is named"
    for name, op_type in expected_blockers.items():
        types = {b.type for b in report.variable(name).blockers}
        assert op_type in types, (name, types)


def test_straight_through_estimator_is_partially_blocked():
    report = gradflow.inspect(tf.function(CASES["straight_through"][0]), variables=VARIABLES, strict=True)
    v = report.variable("v")
    assert v.status == "flows" and v.partially_blocked
    assert v.paths.total == 3 and v.paths.blocked == 2
    assert {b.type for b in v.blockers} == {"Round", "StopGradient"}


def test_zero_from_an_untaken_branch_is_explained():
    report = gradflow.inspect(tf.function(CASES["cond_untaken_branch"][0]), variables=VARIABLES)
    assert report.status("v") == "zero"
    assert "branch" in report.variable("v").why


def test_custom_gradient_names_the_function():
    report = gradflow.inspect(tf.function(CASES["custom_gradient_none"][0]), variables=VARIABLES)
    (blocker,) = report.variable("v").blockers
    assert "quantize" in blocker.reason and blocker.location is not None
    assert blocker.location.file.endswith("test_cut_matrix.py")


def test_prevent_gradient_is_reported_not_raised():
    fn = tf.function(lambda: tf.reduce_sum(tf.raw_ops.PreventGradient(input=V, message="no")) + tf.reduce_sum(U))
    report = gradflow.inspect(fn, variables=VARIABLES)
    assert report.status("v") == "blocked" and report.status("u") == "flows"
    assert not report.numeric and any("LookupError" in n for n in report.notes)


def test_stop_gradient_inside_a_branch_is_located():
    report = gradflow.inspect(tf.function(CASES["cond_branch_stop"][0]), variables=VARIABLES)
    (sg,) = report.stop_gradients
    assert "[then]" in sg.op
    assert sg.location.line > 0 and sg.location.file.endswith("test_cut_matrix.py")


def test_zero_from_a_cut_inside_a_loop_body_is_explained():
    report = gradflow.inspect(tf.function(CASES["while_loop_stop"][0]), variables=VARIABLES, strict=True)
    u = report.variable("u")
    assert u.status == "zero"
    assert [b.type for b in u.blockers] == ["StopGradient"] and "[body]" in u.blockers[0].op
    assert u.why.startswith("zero, not None") and "tf.stop_gradient at" in u.why
