"""SavedModel directories and GraphDef files: every verdict against TensorFlow's own answer.

The models are built here, in temporary folders. TensorFlow's answer comes from
the original objects: ``tf.GradientTape`` on the ``tf.Module`` before it was
saved, ``tf.compat.v1.gradients`` on the graph before it was written. gradflow
sees only the files. A GraphDef is never run: the marker test proves that none
of the user's Python (a ``tf.numpy_function``) and no op (a failing ``Assert``)
executes.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tensorflow as tf

import gradflow
from gradflow.cli import main

v1 = tf.compat.v1
NOT_LEARNING = ("blocked", "disconnected")


# ---------------------------------------------------------------------------
# The SavedModel: one tf.Module, several exported functions


class Model(tf.Module):
    """The canonical example plus the classic cuts, as one saved object.

    loss        = mean(square(x @ w1 - stop_gradient(x @ (w2 * w3))))
    cuts        = mean(cast(argmax(x @ w4))) + mean(round(x @ w5)) + sum(w1)
    head.loss   = a nested module's function (an attribute path)
    poly        = a tf.function traced for two shapes (two concrete signatures)
    constant    = no arguments
    `unused` is read by nothing, and is named "w1" like the first weight.
    """

    def __init__(self):
        super().__init__()
        normal = lambda shape, seed: tf.random.stateless_normal(shape, seed=[seed, 0])  # noqa: E731
        self.w1 = tf.Variable(normal([5, 1], 1), name="w1")
        self.w2 = tf.Variable(normal([5, 1], 2), name="w2")
        self.w3 = tf.Variable(normal([5, 1], 3), name="w3")
        self.w4 = tf.Variable(normal([5, 3], 4), name="w4")
        self.w5 = tf.Variable(normal([5, 2], 5), name="w5")
        self.unused = tf.Variable(normal([3], 6), name="w1")
        self.head = tf.Module()
        self.head.v = tf.Variable(2.0, name="head_v")
        self.head.loss = tf.function(lambda: tf.square(self.head.v) + tf.stop_gradient(self.head.v), input_signature=[])

    @tf.function(input_signature=[tf.TensorSpec([None, 5], tf.float32)])
    def loss(self, x):
        return tf.reduce_mean(tf.square(x @ self.w1 - tf.stop_gradient(x @ (self.w2 * self.w3))))

    @tf.function(input_signature=[tf.TensorSpec([None, 5], tf.float32)])
    def cuts(self, x):
        picked = tf.cast(tf.argmax(x @ self.w4, axis=1), tf.float32)
        return tf.reduce_mean(picked) + tf.reduce_mean(tf.round(x @ self.w5)) + tf.reduce_sum(self.w1)

    @tf.function
    def poly(self, x):
        return tf.reduce_sum(x * self.w1) + tf.reduce_sum(self.w2)

    @tf.function(input_signature=[])
    def constant(self):
        return tf.reduce_sum(self.w3 * self.w3)


# gradflow's names for the module's variables (`unused` repeats the name w1).
NAMES = {"w1": "w1", "w2": "w2", "w3": "w3", "w4": "w4", "w5": "w5", "w1#2": "unused", "head_v": "head.v"}


def synthesized(*shapes):
    """The contract's synthesised inputs: unknown dims 2, standard normal, seed 0."""
    rng = np.random.default_rng(0)
    return tuple(tf.constant(rng.standard_normal(s).astype(np.float32)) for s in shapes)


def attribute(obj, path):
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def tape_answer(model, fn, args):
    """TensorFlow's gradient of ``fn(*args)`` for every variable of NAMES, on the original module."""
    variables = {name: attribute(model, path) for name, path in NAMES.items()}
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        for var in variables.values():
            tape.watch(var)
        loss = tf.reduce_sum(fn(*args))
    grads = tape.gradient(loss, list(variables.values()))
    return dict(zip(variables, grads))


def assert_agrees(report, answer):
    """Each verdict is TensorFlow's: None <-> blocked/disconnected; otherwise its numbers."""
    assert {v.name for v in report.variables} == set(answer)
    for name, grad in answer.items():
        v = report.variable(name)
        if grad is None:
            assert v.status.value in NOT_LEARNING, (name, v.status)
            continue
        value = tf.convert_to_tensor(grad).numpy()
        expected = "zero" if not np.any(value) else "nonfinite" if not np.all(np.isfinite(value)) else "flows"
        assert v.status.value == expected, (name, v.status)
        if expected == "flows" and report.numeric:
            assert v.grad_norm == pytest.approx(float(np.linalg.norm(value)), rel=1e-5)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(the original module, the SavedModel directory)."""
    model = Model()
    model.poly(tf.ones([2, 5, 1]))
    model.poly(tf.ones([5, 1]))
    path = str(tmp_path_factory.mktemp("formats") / "saved_model")
    tf.saved_model.save(model, path, signatures={"serving_default": model.loss})
    return model, path


class TestSavedModel:
    def test_stop_gradient_example(self, saved):
        model, path = saved
        report = gradflow.inspect_file(path, function="loss")
        assert_agrees(report, tape_answer(model, model.loss, synthesized([2, 5])))
        # The graph explains: the StopGradient shields w2 and w3; nothing reads the other two.
        assert [s.shields for s in report.stop_gradients] == [("w2", "w3")]
        assert report.status("w1#2") == "disconnected" and report.status("w2") == "blocked"
        assert report.inputs == "synthesised from the signature of `loss`: (float32[?, 5])"
        assert report.numeric and report.kind == "callable" and report.source == path

    def test_argmax_and_round_cuts(self, saved):
        model, path = saved
        report = gradflow.inspect_file(path, function="cuts")
        assert_agrees(report, tape_answer(model, model.cuts, synthesized([2, 5])))
        assert {b.type for b in report.variable("w4").blockers} >= {"ArgMax"}
        assert [b.type for b in report.variable("w5").blockers] == ["Round"]

    def test_no_source_lines_so_locations_are_null(self, saved):
        report = gradflow.inspect_file(saved[1], function="loss")
        data = report.to_dict()
        blockers = [b for v in data["variables"] for b in v["blockers"]]
        assert blockers and all(b["location"] is None for b in blockers)
        assert all(s["location"] is None for s in data["stop_gradients"])
        assert all(v["created_at"] is None for v in data["variables"])
        assert any("SavedModel keeps no Python source lines" in n for n in data["notes"])

    def test_nested_attribute_path_and_zero_argument_function(self, saved):
        model, path = saved
        report = gradflow.inspect_file(path, function="head.loss")
        assert report.target == "head.loss" and report.inputs == "none (the function takes no arguments)"
        assert_agrees(report, tape_answer(model, model.head.loss, ()))
        report = gradflow.inspect_file(path, function="constant")
        assert_agrees(report, tape_answer(model, model.constant, ()))

    def test_several_concrete_signatures_pick_the_first_in_sorted_order(self, saved):
        model, path = saved
        report = gradflow.inspect_file(path, function="poly")
        assert report.inputs.startswith("synthesised from the signature of `poly`: (float32[2, 5, 1]) ")
        assert "2 concrete signatures; the others: (float32[5, 1])" in report.inputs
        assert_agrees(report, tape_answer(model, model.poly, synthesized([2, 5, 1])))

    def test_signature_key(self, saved):
        model, path = saved
        report = gradflow.inspect_file(path, function="serving_default")
        assert report.inputs == "synthesised from the signature of `serving_default`: (x: float32[?, 5])"
        assert_agrees(report, tape_answer(model, model.loss, synthesized([2, 5])))
        assert [s.shields for s in report.stop_gradients] == [("w2", "w3")]

    def test_tf1_saved_model_signature(self, tmp_path):
        """A TF1 SavedModel (Builder): its loader builds ops in Python, yet no location leaks."""
        graph = tf.Graph()
        with graph.as_default():
            x = v1.placeholder(tf.float32, [None, 5], name="x")
            w = {name: v1.get_variable(name, [5, 1]) for name in ("w1", "w2", "unused")}
            loss = tf.reduce_mean(tf.square(x @ w["w1"] - tf.stop_gradient(x @ w["w2"])), name="loss")
            answer = graph_answer(graph, w, loss)
            with v1.Session() as session:
                session.run(v1.global_variables_initializer())
                builder = v1.saved_model.Builder(str(tmp_path / "tf1"))
                signature = v1.saved_model.predict_signature_def({"x": x}, {"loss": loss})
                builder.add_meta_graph_and_variables(session, ["serve"], signature_def_map={"serving_default": signature})
                builder.save()
        report = gradflow.inspect_file(str(tmp_path / "tf1"), function="serving_default")
        assert_symbolic_agrees(report, answer, numeric=True)
        assert all(b.location is None for v in report.variables for b in v.blockers)
        assert [s.location for s in report.stop_gradients] == [None]

    def test_missing_or_unknown_function_lists_the_exports(self, saved, run_main):
        path = saved[1]
        exports = "constant, cuts, loss, poly, head.loss, serving_default"  # breadth first
        code, out, err = run_main("inspect", path)
        assert code == 2 and out == ""
        assert f"exports functions: {exports}; pick one with --function NAME" in err
        code, _, err = run_main("inspect", path, "--function", "w4")
        assert code == 2 and "no function `w4` (it is a variable, not a function)" in err
        assert "Traceback" not in err

    def test_cli_json_fail_on_and_explain(self, saved, run_main, tmp_path):
        svg = tmp_path / "flow.svg"
        code, out, err = run_main("inspect", saved[1], "--function", "loss", "--format", "json",
                                  "--svg", str(svg), "--fail-on", "blocked")
        assert code == 1 and "--fail-on matched: w2 (blocked), w3 (blocked)" in err
        data = json.loads(out)
        assert data["target"] == "loss" and data["numeric_check"] is True
        assert svg.read_text().startswith("<?xml") or "<svg" in svg.read_text()
        code, out, _ = run_main("explain", saved[1], "w2", "--function", "loss")
        assert code == 0 and "StopGradient" in out and "blocked" in out


# ---------------------------------------------------------------------------
# GraphDefs: a TF1 graph with ref and resource variables, never run


MARKER_NAME = "py_func_ran.txt"


def build_graph(marker):
    """The canonical TF1 graph plus classic cuts, a py_func that writes ``marker``, and a failing Assert.

    Returns (graph, {name: variable}, {loss name: loss tensor}).
    """

    def write_marker(a):
        with open(marker, "w") as fh:
            fh.write("gradflow ran the user's code")
        return a

    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 5], name="x")
        make = lambda name, shape, resource: v1.get_variable(name, shape, use_resource=resource)  # noqa: E731
        w = {
            "w1": make("w1", [5, 1], True),     # resource: differentiated at its handle
            "w2": make("w2", [5, 1], False),    # ref: differentiated at its float32_ref
            "w3": make("w3", [5, 1], True),
            "w4": make("w4", [5, 3], False),
            "w5": make("w5", [5, 2], True),
            "w6": make("w6", [5, 1], True),
            "unused": make("unused", [3], False),
        }
        main_loss = tf.reduce_mean(tf.square(x @ w["w1"] - tf.stop_gradient(x @ (w["w2"] * w["w3"]))),
                                   name="main")
        picked = tf.cast(tf.argmax(x @ w["w4"], axis=1), tf.float32)
        py = v1.numpy_function(write_marker, [x @ w["w6"]], tf.float32)
        never = tf.debugging.Assert(False, ["this graph must never run"])
        with tf.control_dependencies([never]):
            total = tf.add_n([main_loss, tf.reduce_mean(picked), tf.reduce_mean(tf.round(x @ w["w5"])),
                              tf.reduce_mean(py)], name="loss")
    return graph, w, {"main": main_loss, "loss": total}


def graph_answer(graph, variables, loss):
    """TensorFlow's symbolic gradients on the original graph: name -> None or a tensor."""
    with graph.as_default():
        grads = v1.gradients(loss, list(variables.values()))
    return dict(zip(variables, grads))


def assert_symbolic_agrees(report, answer, *, numeric=False):
    """None <-> blocked/disconnected; with no numeric check, no norms either."""
    assert {v.name for v in report.variables} == set(answer)
    for name, grad in answer.items():
        v = report.variable(name)
        assert (v.status.value in NOT_LEARNING) == (grad is None), (name, v.status)
        assert (v.grad_norm is None) == (grad is None or not numeric), (name, v.grad_norm)


@pytest.fixture(scope="module")
def graph_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("graphdef")
    marker = folder / MARKER_NAME
    graph, variables, losses = build_graph(str(marker))
    tf.io.write_graph(graph, str(folder), "graph.pb", as_text=False)
    tf.io.write_graph(graph, str(folder), "graph.pbtxt", as_text=True)
    return folder, marker, graph, variables, losses


class TestGraphDef:
    @pytest.mark.parametrize("file,loss", [("graph.pb", "loss"), ("graph.pbtxt", "loss:0"), ("graph.pb", "main")])
    def test_symbolic_verdicts_agree_with_tf_gradients(self, graph_files, file, loss):
        folder, marker, graph, variables, losses = graph_files
        report = gradflow.inspect_file(str(folder / file), loss=loss)
        assert report.target == losses[loss.split(":")[0]].name
        assert_symbolic_agrees(report, graph_answer(graph, variables, losses[loss.split(":")[0]]))
        assert not report.numeric and report.kind == "tf1"
        assert not marker.exists()

    def test_cuts_are_explained_without_locations(self, graph_files):
        folder = graph_files[0]
        report = gradflow.inspect_file(str(folder / "graph.pb"), loss="loss")
        assert [s.shields for s in report.stop_gradients] == [("w2", "w3")]
        assert [b.type for b in report.variable("w4").blockers] == ["ArgMax"]
        assert [b.type for b in report.variable("w5").blockers] == ["Round"]
        assert [b.type for b in report.variable("w6").blockers] == ["PyFunc"]
        assert report.status("unused") == "disconnected"
        assert all(b.location is None for v in report.variables for b in v.blockers)
        assert any("no numeric check ran" in n for n in report.notes)
        assert any("GraphDef keeps no Python source lines" in n for n in report.notes)

    def test_never_runs_the_users_code(self, graph_files, run_main, tmp_path):
        """A py_func that writes a marker and an Assert that fails: neither runs."""
        folder, marker, graph, variables, losses = graph_files
        code, out, err = run_main("inspect", str(folder / "graph.pb"), "--loss", "loss", "--format", "json",
                                  "--dot", str(tmp_path / "g.dot"))
        assert code == 0, err
        data = json.loads(out)
        assert data["numeric_check"] is False
        assert all(v["grad_norm"] is None for v in data["variables"])
        statuses = {v["name"]: v["status"] for v in data["variables"]}
        answer = graph_answer(graph, variables, losses["loss"])
        assert {n for n, s in statuses.items() if s in NOT_LEARNING} == {n for n, g in answer.items() if g is None}
        assert not marker.exists()
        # The py_func is real: running the graph would have written the marker.
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            session.run(graph.get_operation_by_name("PyFunc").outputs[0],
                        feed_dict={graph.get_tensor_by_name("x:0"): np.ones([2, 5], np.float32)})
        assert marker.exists()
        marker.unlink()

    def test_terminal_says_no_numeric_check_ran(self, graph_files, run_main):
        code, out, _ = run_main("inspect", str(graph_files[0] / "graph.pb"), "--loss", "main")
        assert code == 0
        assert "no numeric check ran" in out and "w1" in out and "✓ flows" in out

    def test_frozen_graph_constants_stand_in_for_the_weights(self, tmp_path):
        graph, variables, losses = build_graph(str(tmp_path / MARKER_NAME))
        with graph.as_default(), v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            frozen = v1.graph_util.convert_variables_to_constants(session, graph.as_graph_def(), ["main"])
        tf.io.write_graph(frozen, str(tmp_path), "frozen.pb", as_text=False)
        report = gradflow.inspect_file(str(tmp_path / "frozen.pb"), loss="main")
        # Freezing keeps what `main` reads: w1, w2, w3, now constants of the same names.
        kept = {n: v for n, v in variables.items() if n in ("w1", "w2", "w3")}
        assert_symbolic_agrees(report, graph_answer(graph, kept, losses["main"]))
        assert all(v.trainable for v in report.variables)
        assert any("frozen graph" in n and "3 non-scalar float constants" in n for n in report.notes)

    def test_optimizer_state_is_not_trainable(self, tmp_path):
        graph = tf.Graph()
        with graph.as_default():
            w = v1.get_variable("w", [3], use_resource=True)
            dead = v1.get_variable("dead", [3], use_resource=False)
            loss = tf.reduce_sum(tf.square(w) + tf.stop_gradient(dead), name="loss")
            v1.train.AdamOptimizer(0.1).minimize(loss, global_step=v1.train.get_or_create_global_step())
            every = {v.op.name: v for v in v1.global_variables() if v.dtype.base_dtype.is_floating}
        answer = graph_answer(graph, every, loss)
        tf.io.write_graph(graph, str(tmp_path), "train.pb", as_text=False)
        report = gradflow.inspect_file(str(tmp_path / "train.pb"), loss="loss")
        # Adam updates only w (dead's gradient is None), yet dead is trainable: a mistake to
        # report. Adam's slots and beta powers are its state; the int64 global step cannot learn.
        assert {v.name for v in report.variables if v.trainable} == {"w", "dead"}
        assert len(every) == 6 and report.status("global_step") == "disconnected"
        assert_symbolic_agrees(report, {**answer, "global_step": None})


# ---------------------------------------------------------------------------
# Bad input: exit 2, one short message, no traceback, no output file


@pytest.fixture
def run_main(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)

    def run(*args):
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


class TestBadInput:
    def test_messages(self, tmp_path, graph_files, saved, run_main):
        folder = graph_files[0]
        (tmp_path / "not_a_model").mkdir()
        (tmp_path / "corrupt.pb").write_bytes(b"\x08\x96\x01 this is not a graph \xff\xfe")
        (tmp_path / "model.py").write_text("import tensorflow as tf\nw = tf.Variable(1.0)\nloss = lambda: w * w\n")
        cases = [
            (["not_a_model"], "ModelFileError", "not a SavedModel"),
            (["corrupt.pb", "--loss", "x"], "ModelFileError", "is not a GraphDef"),
            ([str(folder / "graph.pb")], "TargetError", "--loss TENSOR. Scalar float tensors in it: loss:0, main:0"),
            ([str(folder / "graph.pb"), "--loss", "nope:0"], "TargetError", "no tensor `nope:0`"),
            (["model.py", "--function", "loss"], "UsageError", "--function applies to a SavedModel directory"),
            (["model.py", "--loss", "loss"], "UsageError", "--loss applies to a GraphDef"),
            ([saved[1], "--target", "loss"], "UsageError", "pick its function with --function NAME"),
            ([os.path.join(saved[1], "saved_model.pb")], "ModelFileError", "Give its directory instead"),
        ]
        for args, error, phrase in cases:
            svg = tmp_path / "out.svg"
            code, out, err = run_main("inspect", *args, "--svg", str(svg))
            assert code == 2, (args, err)
            assert err.startswith(error) and phrase in err, (args, err)
            assert "Traceback" not in err and out == "" and not svg.exists()

    def test_help_names_the_formats(self, run_main):
        code, out, _ = run_main("inspect", "--help")
        assert code == 0
        flat = " ".join(out.split())
        assert "--function NAME" in flat and "--loss TENSOR" in flat and "SavedModel directory" in flat
