"""The bad-input suite: over a hundred distinct bad values across inspect, explain, train, docs and
the Python API. Each gives exit 2 (or a gradflow error class from the API) with a message naming
the value and the fix, and no gradflow traceback. Fast: nearly all fail before TensorFlow loads."""

from __future__ import annotations

import math
import os
import pathlib

import pytest

from conftest import EXAMPLES, ROOT
from gradflow.errors import ArgumentError, GradflowError, RenderError, UsageError, UserError

MODEL = str(EXAMPLES / "int_cast.py")


# (arguments, a fragment the message must contain)
PARSE_CASES = []
for cmd in ("inspect",):
    for value in ("-1", "-5", "abc", "1.5", "", "nan"):
        PARSE_CASES.append(((cmd, MODEL, "--collapse", value), "whole number, 0 or more"))
    for value in ("nan", "-1", "0", "inf", "abc", ""):
        PARSE_CASES.append(((cmd, MODEL, "--render-timeout", value), "seconds greater than 0"))
    PARSE_CASES.append(((cmd, MODEL, "--render-timeout=-inf"), "seconds greater than 0"))
    for value in ("bogus", ",", "flows,bogus", "FLOWS"):
        PARSE_CASES.append(((cmd, MODEL, "--fail-on", value), "choose from"))
    PARSE_CASES += [
        ((cmd, MODEL, "--format", "xml"), "invalid choice"),
        ((cmd, MODEL, "--view", "bogus"), "invalid choice"),
        ((cmd,), "FILE"),
        ((cmd, MODEL, "--bogus"), "unrecognized arguments"),
        ((cmd, MODEL, "--json"), "expected one argument"),
        ((cmd, MODEL, "--svg"), "expected one argument"),
        ((cmd, MODEL, "--target"), "expected one argument"),
    ]
PARSE_CASES += [
    (("explain", MODEL), "VARIABLE"),
    (("explain",), "FILE"),
    (("explain", MODEL, "w", "--format", "json"), "unrecognized arguments"),
    (("explain", MODEL, "w", "--svg"), "expected one argument"),
]
for value in ("0", "-1", "abc", "1.5", ""):
    PARSE_CASES.append((("train", MODEL, "--steps", value), "whole number, 1 or more"))
for value in ("0", "-1", "nan", "inf", "abc", ""):
    PARSE_CASES.append((("train", MODEL, "--lr", value), "number greater than 0"))
PARSE_CASES += [
    (("train", MODEL, "--optimizer", "bogus"), "invalid choice"),
    (("train", MODEL, "--format", "xml"), "invalid choice"),
    (("train",), "FILE"),
]
for value in ("0", "-1", "abc", "1.5", ""):
    PARSE_CASES.append((("docs", str(EXAMPLES), "-o", "site", "-j", value), "whole number, 1 or more"))
for value in ("0", "-1", "nan", "inf", "abc", ""):
    PARSE_CASES.append((("docs", str(EXAMPLES), "-o", "site", "--timeout", value), "seconds greater than 0"))
PARSE_CASES += [
    (("docs", str(EXAMPLES), "-o", "site", "--format", "pdf"), "invalid choice"),
    (("docs", str(EXAMPLES)), "-o/--output"),
    (("docs", "-o", "site"), "PATH"),
    (("bogus-command",), "invalid choice"),
]


@pytest.mark.parametrize("args, fragment", PARSE_CASES, ids=lambda v: " ".join(v) if isinstance(v, tuple) else None)
def test_bad_value_is_rejected_where_parsed(run_main, args, fragment):
    code, out, err = run_main(*args)
    assert code == 2, err
    assert fragment in err
    assert "Traceback" not in err and out == ""


def _after_parse_cases(tmp: pathlib.Path):
    """Cases that pass argparse and fail in gradflow's own checks, before the model runs."""
    text = tmp / "model.txt"
    text.write_text("not python\n")
    folder = tmp / "folder"
    folder.mkdir(exist_ok=True)
    model = tmp / "m.py"
    model.write_text(pathlib.Path(MODEL).read_text())
    link = tmp / "link.py"
    if not link.exists():
        link.symlink_to(model)
    empty = tmp / "empty"
    empty.mkdir(exist_ok=True)
    afile = tmp / "afile"
    afile.write_text("x\n")
    m = str(model)
    return [
        (("inspect", str(tmp / "missing.py")), "no such file"),
        (("inspect", str(text)), "model.txt"),
        (("inspect", m, "--loss", "x:0"), "--loss"),
        (("inspect", m, "--function", "f"), "--function"),
        (("inspect", m, "-o", str(tmp / "graph.bogus")), "suffix"),
        (("inspect", m, "-o", str(tmp / "graph")), "suffix"),
        (("inspect", m, "--json", m), "model file itself"),
        (("inspect", m, "--svg", m), "model file itself"),
        (("inspect", m, "--dot", m), "model file itself"),
        (("inspect", m, "--html", m), "model file itself"),
        (("inspect", m, "-o", m), "model file itself"),
        (("inspect", m, "--json", str(link)), "model file itself"),
        (("inspect", str(link), "--json", m), "model file itself"),
        (("explain", m, "w", "--svg", m), "model file itself"),
        (("explain", str(tmp / "missing.py"), "w"), "no such file"),
        (("explain", m, "w", "--loss", "x:0"), "--loss"),
        (("train", m, "--json", m), "model file itself"),
        (("train", m, "--plot", m), "model file itself"),
        (("train", m, "--plot-layers", m), "model file itself"),
        (("train", m, "--plot", str(tmp / "plot.bogus")), ".svg, .png or .pdf"),
        (("train", m, "--plot-layers", str(tmp / "plot.txt")), ".svg, .png or .pdf"),
        (("docs", str(tmp / "missing"), "-o", str(tmp / "site")), "no such file"),
        (("docs", str(tmp / "nothing*.py"), "-o", str(tmp / "site")), "no such file"),
        (("docs", str(empty), "-o", str(tmp / "site")), "no model files"),
        (("docs", m, "-o", str(afile)), "not a folder"),
        (("docs", m, "-o", str(afile / "site")), "cannot write"),
        (("docs", m, "-o", "/proc/gradflow-site"), "cannot write"),
    ]


AFTER_PARSE_IDS = list(range(27))


@pytest.mark.parametrize("case", AFTER_PARSE_IDS)
def test_bad_input_after_parsing(run_main, tmp_path, case):
    args, fragment = _after_parse_cases(tmp_path)[case]
    code, out, err = run_main(*args)
    assert code == 2, err
    assert fragment in err, err
    assert "Traceback" not in err and out == ""
    assert not list(tmp_path.glob("**/.gradflow-[0-9]*"))  # no temp file left
    assert pathlib.Path(MODEL).read_text() == (tmp_path / "m.py").read_text()  # the model is untouched


# -- the Python API -------------------------------------------------------------------
def _api_cases():
    from gradflow.api import inspect_file
    from gradflow.render.files import GraphOptions, _options, render_path
    from gradflow.site import build_site
    from gradflow.writing import format_of, write_atomic

    return {
        "inspect_file(None)": lambda tmp: inspect_file(None),
        "inspect_file(bytes)": lambda tmp: inspect_file(b"model.py"),
        "inspect_file(int)": lambda tmp: inspect_file(123),
        "inspect_file(list)": lambda tmp: inspect_file(["model.py"]),
        "inspect_file('')": lambda tmp: inspect_file(""),
        "inspect_file(NUL)": lambda tmp: inspect_file("a\0b.py"),
        "inspect_file(bytes PathLike)": lambda tmp: inspect_file(_BytesPath()),
        "inspect_file(target=123)": lambda tmp: inspect_file(MODEL, target=123),
        "inspect_file(inputs=b'x')": lambda tmp: inspect_file(MODEL, inputs=b"x"),
        "inspect_file(function=1.0)": lambda tmp: inspect_file(MODEL, function=1.0),
        "inspect_file(loss=[])": lambda tmp: inspect_file(MODEL, loss=[]),
        "inspect_file(target='')": lambda tmp: inspect_file(MODEL, target=""),
        "GraphOptions(view=bogus)": lambda tmp: GraphOptions(view="bogus"),
        "GraphOptions(collapse=-1)": lambda tmp: GraphOptions(collapse=-1),
        "GraphOptions(collapse=1.5)": lambda tmp: GraphOptions(collapse=1.5),
        "GraphOptions(collapse=True)": lambda tmp: GraphOptions(collapse=True),
        "GraphOptions(collapse='2')": lambda tmp: GraphOptions(collapse="2"),
        "GraphOptions(timeout=nan)": lambda tmp: GraphOptions(timeout=math.nan),
        "GraphOptions(timeout=-1)": lambda tmp: GraphOptions(timeout=-1),
        "GraphOptions(timeout=0)": lambda tmp: GraphOptions(timeout=0),
        "GraphOptions(timeout='60')": lambda tmp: GraphOptions(timeout="60"),
        "GraphOptions(max_nodes=0)": lambda tmp: GraphOptions(max_nodes=0),
        "GraphOptions(focus=3)": lambda tmp: GraphOptions(focus=3),
        "render options: unknown": lambda tmp: _options({"colapse": 1}),
        "render_path(path=123)": lambda tmp: render_path(None, 123),
        "render_path(path=None)": lambda tmp: render_path(None, None),
        "build_site(fmt=pdf)": lambda tmp: build_site([MODEL], str(tmp / "s"), fmt="pdf"),
        "build_site(jobs=0)": lambda tmp: build_site([MODEL], str(tmp / "s"), jobs=0),
        "build_site(jobs=-1)": lambda tmp: build_site([MODEL], str(tmp / "s"), jobs=-1),
        "build_site(jobs=1.5)": lambda tmp: build_site([MODEL], str(tmp / "s"), jobs=1.5),
        "build_site(timeout=0)": lambda tmp: build_site([MODEL], str(tmp / "s"), timeout=0),
        "build_site(timeout=nan)": lambda tmp: build_site([MODEL], str(tmp / "s"), timeout=math.nan),
        "build_site(timeout='5')": lambda tmp: build_site([MODEL], str(tmp / "s"), timeout="5"),
        "build_site(missing path)": lambda tmp: build_site([str(tmp / "nope")], str(tmp / "s")),
        "write_atomic(folder)": lambda tmp: write_atomic(str(tmp), "x"),
        "write_atomic(missing folder)": lambda tmp: write_atomic(str(tmp / "no" / "x.json"), "x"),
        "format_of(.bogus)": lambda tmp: format_of("x.bogus"),
    }


class _BytesPath(os.PathLike):
    def __fspath__(self):
        return b"model.py"


API_CASES = list(_api_cases())


@pytest.mark.parametrize("name", API_CASES)
def test_api_raises_a_gradflow_error(tmp_path, name):
    with pytest.raises(GradflowError) as info:
        _api_cases()[name](tmp_path)
    assert isinstance(info.value, UserError)
    assert str(info.value)


def test_argument_error_is_also_what_python_code_expects():
    from gradflow.render.files import GraphOptions

    with pytest.raises(ValueError):
        GraphOptions(collapse=-1)
    with pytest.raises(TypeError):
        GraphOptions(collapse=-1)
    assert issubclass(ArgumentError, UsageError) and issubclass(RenderError, UserError)


def test_the_suite_has_a_hundred_distinct_cases():
    assert len(PARSE_CASES) + len(AFTER_PARSE_IDS) + len(API_CASES) >= 100
    assert len({c for c, _ in PARSE_CASES}) == len(PARSE_CASES)


def test_a_huge_input_signature_is_an_inputs_error(run_main, tmp_path):
    model = tmp_path / "big.py"
    model.write_text("import tensorflow as tf\nw = tf.Variable(1.0)\n"
                     "@tf.function(input_signature=[tf.TensorSpec([100000, 100000, 100])])\n"
                     "def loss(x):\n    return tf.reduce_sum(x) * w\n")
    code, out, err = run_main("inspect", str(model))
    assert code == 2, err
    assert "InputsError" in err and "[100000, 100000, 100]" in err and "example_inputs" in err
    assert "Traceback" not in err


def test_os_exit_at_import_is_reported(run_main, tmp_path):
    model = tmp_path / "exits.py"
    model.write_text("import os\nos._exit(0)\n")
    code, out, err = run_main("inspect", str(model))
    assert code == 2, err
    assert "os._exit(0)" in err and "ModelExitError" in err
    assert "your code only" in err and "gradflow/" not in err  # only the user's frames


def test_writing_keeps_the_mode_and_writes_through_links(tmp_path):
    from gradflow.writing import write_atomic

    target = tmp_path / "report.json"
    target.write_text("old\n")
    target.chmod(0o600)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_atomic(str(link), "new\n")
    assert link.is_symlink() and target.read_text() == "new\n"
    assert (target.stat().st_mode & 0o777) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "report.json"]


def test_a_temp_file_of_a_dead_writer_is_swept(tmp_path):
    import subprocess
    import sys

    from gradflow.writing import write_atomic

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".gradflow-{dead.pid}-abc.json"
    stale.write_text("half")
    write_atomic(str(tmp_path / "out.json"), "{}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_a_raising_py_function_shows_only_the_users_frames(run_main, tmp_path):
    model = tmp_path / "pyf.py"
    model.write_text("import tensorflow as tf\n\nw = tf.Variable(1.0)\n\n\ndef body(x):\n"
                     "    raise ValueError('boom in py_function body')\n\n\n"
                     "def loss():\n    return tf.py_function(body, [w * 2.0], tf.float32)\n")
    code, out, err = run_main("inspect", str(model))
    assert code == 2, err
    assert "boom in py_function body" in err and 'pyf.py", line 7, in body' in err
    assert "gradflow/" not in err and "script_ops" not in err and "runpy" not in err


def test_exits_after_the_report_despite_the_users_threads(run_cli, tmp_path):
    model = tmp_path / "threads.py"
    model.write_text("import threading, time\nimport tensorflow as tf\n\n"
                     "threading.Thread(target=lambda: time.sleep(10 ** 6)).start()  # not a daemon\n"
                     "w = tf.Variable(1.0)\n\n\ndef loss():\n    return w * 2.0\n")
    proc = run_cli("inspect", str(model), "--format", "json", timeout=300)  # the guard, not a timing
    assert proc.returncode == 0, proc.stderr
    assert '"flows"' in proc.stdout


def test_a_complex_loss_is_noted_and_json_goes_to_dev_stdout(run_cli, tmp_path):
    import json

    model = tmp_path / "cplx.py"
    model.write_text("import tensorflow as tf\nw = tf.Variable(1.0)\n\n\ndef loss():\n"
                     "    return tf.complex(w * 2.0, w)\n")
    proc = run_cli("inspect", str(model), "--json", "/dev/stdout", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.strip().split("\n}\n")[0] + "\n}", proc.stdout.strip().split("\n}\n")[1]
    report = json.loads(first)
    assert json.loads(second)["variables"] == report["variables"]  # written twice: --json and --format
    assert any("the loss is complex (complex64)" in note for note in report["notes"])


def _eager_py_func_graphdef(path: pathlib.Path) -> None:
    """A tf.function's graph holding a ``tf.py_function`` (an EagerPyFunc op), saved as a .pb.

    Its token names no function registered in any process, as in a fresh process
    where the graph was not built: TensorFlow's EagerPyFunc gradient then asserts.
    """
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([2], tf.float32)])
    def f(x):
        w = tf.constant([1.0, 2.0], name="w")
        v = tf.constant([3.0, 4.0], name="v")
        y = tf.py_function(lambda a: a * 3.0, [x * w], tf.float32)
        return tf.identity(tf.reduce_sum(y) + tf.reduce_sum(v * x), name="loss")

    graph_def = f.get_concrete_function().graph.as_graph_def()
    for node in graph_def.node:
        if node.op == "EagerPyFunc":
            node.attr["token"].s = b"pyfunc_gradflow_test_not_registered"
    path.write_bytes(graph_def.SerializeToString())


def test_an_eager_py_func_graphdef_gives_a_note_not_exit_3(run_main, tmp_path):
    import json

    import tensorflow as tf

    model = tmp_path / "model.pb"
    _eager_py_func_graphdef(model)
    # The oracle: tf.gradients on the imported graph.
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(model.read_bytes())
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
        try:
            tf.compat.v1.gradients(graph.get_tensor_by_name("loss:0"),
                                   [graph.get_tensor_by_name("w:0"), graph.get_tensor_by_name("v:0")])
            oracle_error = None
        except Exception as exc:  # noqa: BLE001
            oracle_error = exc
    assert isinstance(oracle_error, AssertionError)

    code, out, err = run_main("inspect", str(model), "--loss", "loss:0", "--format", "json")
    assert code == 0, err
    assert "Traceback" not in err
    report = json.loads(out)
    assert report["numeric_check"] is False
    assert any("TensorFlow's autodiff raised AssertionError: EagerPyFuncGrad" in n for n in report["notes"])
    assert all(".;" not in n for n in report["notes"])
    assert {v["name"] for v in report["variables"]} == {"w", "v"}


SIGTERM_WRITER = r"""
import os, signal, sys, threading, time
from gradflow import writing

folder, mode = sys.argv[1], sys.argv[2]
target = os.path.join(folder, "out.html")
if mode == "cli":
    from gradflow.cli import _terminate_on_sigterm
    _terminate_on_sigterm()

def kill_once_the_temp_file_exists():
    while not any(n.startswith(writing.TEMP_PREFIX) for n in os.listdir(folder)):
        time.sleep(0.0005)
    os.kill(os.getpid(), signal.SIGTERM)  # a real signal, mid-write

threading.Thread(target=kill_once_the_temp_file_exists, daemon=True).start()
try:
    writing.write_atomic(target, "x" * (64 << 20))
except BaseException as exc:
    print(type(exc).__name__, flush=True)
    sys.exit(143)
print("finished", flush=True)
"""


@pytest.mark.parametrize("mode", ["api", "cli"])
def test_sigterm_mid_write_leaves_no_temp_file_and_the_old_output(tmp_path, mode):
    import signal
    import subprocess
    import sys

    (tmp_path / "out.html").write_text("old complete report\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", SIGTERM_WRITER, str(tmp_path), mode], env=env,
                          capture_output=True, text=True, timeout=120)
    assert "finished" not in proc.stdout, "the signal came too late to test a write in progress"
    if mode == "api":  # SIGTERM's default disposition: dies by it, after removing the temp file
        assert proc.returncode == -signal.SIGTERM, proc.stderr
    else:  # the CLI's handler: Terminated raised through the write
        assert proc.returncode == 143 and proc.stdout.strip() == "Terminated", (proc.stdout, proc.stderr)
    assert [p.name for p in tmp_path.iterdir()] == ["out.html"]
    assert (tmp_path / "out.html").read_text() == "old complete report\n"


def test_a_newline_in_the_model_files_name_stays_on_the_header_line(run_main, tmp_path, monkeypatch):
    model = tmp_path / "two\nlines\x1b[31m.py"
    model.write_text((EXAMPLES / "int_cast.py").read_text())
    monkeypatch.chdir(tmp_path)  # a short relative path: the header fits one line however deep tmp_path is
    code, out, err = run_main("inspect", model.name)
    assert code in (0, 1), err
    first = out.splitlines()[0]
    assert first.startswith("gradflow  ") and first.endswith("target loss (callable)"), out
    assert "two\\nlines\\x1b[31m.py" in first
    assert "\x1b" not in out


def test_a_long_exception_message_is_cut_in_the_middle(run_main, tmp_path):
    # A message holding a whole tensor (TensorFlow's binding errors print numpy reprs) stays short.
    model = tmp_path / "long.py"
    model.write_text("import tensorflow as tf\n\nw = tf.Variable(1.0)\n"
                     "raise ValueError('bad batch:\\n' + '\\n'.join(f'row {i}' for i in range(400)))\n")
    code, out, err = run_main("inspect", str(model))
    assert code == 2 and not out
    assert "bad batch:" in err and "row 399" in err and "lines cut" in err and "row 200" not in err
    assert 'long.py", line 4' in err  # the user's own frame stays
    assert len(err.splitlines()) < 40, err


def test_a_compiled_model_with_a_loss_on_one_of_two_named_outputs(tmp_path):
    # compile(loss={"main": ...}) on a model with outputs {"main", "aux"}: the dict `y` binds,
    # and the head without a loss is disconnected, as TensorFlow's gradient says (None).
    import gradflow

    model = tmp_path / "two_outputs.py"
    model.write_text(
        "import keras\nimport numpy as np\n\n"
        "inp = keras.Input((4,))\nh = keras.layers.Dense(3, name='body')(inp)\n"
        "model = keras.Model(inp, {'main': keras.layers.Dense(2, name='main')(h),\n"
        "                          'aux': keras.layers.Dense(1, name='aux')(h)})\n"
        "model.compile(optimizer='sgd', loss={'main': 'sparse_categorical_crossentropy'})\n"
        "example_inputs = (np.ones((3, 4), 'float32'), {'main': np.array([0, 1, 1])})\n")
    report = gradflow.inspect_file(str(model))
    import keras
    import numpy as np
    import tensorflow as tf

    inp = keras.Input((4,))  # the oracle: the same model, and TensorFlow's own gradient
    h = keras.layers.Dense(3, name="body")(inp)
    m = keras.Model(inp, {"main": keras.layers.Dense(2, name="main")(h), "aux": keras.layers.Dense(1, name="aux")(h)})
    m.compile(optimizer="sgd", loss={"main": "sparse_categorical_crossentropy"})
    x, y = np.ones((3, 4), "float32"), {"main": np.array([0, 1, 1])}
    with tf.GradientTape() as tape:
        loss = m.compute_loss(x=x, y=y, y_pred=m(x, training=True), training=True)
    grads = tape.gradient(loss, m.trainable_variables)
    oracle = {v.path: g is None for v, g in zip(m.trainable_variables, grads)}
    assert sum(oracle.values()) == 2
    statuses = {v.name: v.status for v in report.variables if v.trainable}
    assert set(statuses) == set(oracle)
    for name, none in oracle.items():
        assert (statuses[name] in ("blocked", "disconnected")) is none, (name, statuses[name])
    assert statuses["aux/kernel"] == statuses["aux/bias"] == "disconnected"
    assert [n for n in report.notes if "compile() gives no loss for output 'aux' (of 2 outputs)" in n]
