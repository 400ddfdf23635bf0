"""Bad input: exit 2, one clear message naming the problem and the fix, no gradflow traceback.

These call the CLI's ``main`` in-process (fast); test_cli.py covers real subprocesses.
"""

from __future__ import annotations

import os
import textwrap

import pytest

BAD_FILES = {
    "raises.py": ("import tensorflow as tf\ndef helper():\n    raise RuntimeError('boom in user code')\nhelper()\n",
                  ["ModelImportError", "boom in user code", "raises.py\", line 3, in helper"]),
    "syntax.py": ("def loss(:\n    pass\n", ["ModelImportError", "not valid Python", "line 1"]),
    "notarget.py": ("import tensorflow as tf\nw = tf.Variable(1.0)\n", ["TargetError", "--target NAME", "no `loss`"]),
    "several.py": ("import tensorflow as tf\nw = tf.Variable(1.0)\n@tf.function\ndef a():\n    return w\n"
                   "@tf.function\ndef b():\n    return w\n", ["TargetError", "a, b", "--target"]),
    "signature.py": ("import tensorflow as tf\nw = tf.Variable(tf.ones([5, 1]))\n"
                     "@tf.function(input_signature=[tf.TensorSpec([None, 5])])\ndef loss(x):\n"
                     "    return tf.reduce_sum(x @ w)\nexample_inputs = (tf.ones([4, 3]),)\n",
                     ["InputsError", "argument `x`", "float32[?, 5]", "float32[4, 3]"]),
    "shapes.py": ("import tensorflow as tf\nw = tf.Variable(tf.ones([5, 1]))\ndef loss(x):\n"
                  "    return tf.reduce_sum(x @ w)\nexample_inputs = (tf.ones([4, 3]),)\n",
                  ["TraceError", "Dimensions must be equal", "shapes.py"]),
    "needsargs.py": ("import tensorflow as tf\nw = tf.Variable(1.0)\ndef loss(x, y):\n    return w * x\n",
                     ["InputsError", "x, y", "example_inputs"]),
    "intloss.py": ("import tensorflow as tf\nw = tf.Variable(tf.ones([5]))\ndef loss():\n    return tf.argmax(w)\n",
                   ["LossError", "int64", "float"]),
    "tupleloss.py": ("import tensorflow as tf\nw = tf.Variable(1.0)\ndef loss():\n    return w, w\n",
                     ["LossError", "tuple of 2"]),
    "novars.py": ("import tensorflow as tf\ndef loss():\n    return tf.reduce_sum(tf.ones([3]))\n",
                  ["NoVariablesError", "no variables"]),
    "uncompiled.py": ("import keras\nloss = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])\n",
                      ["TargetError", "not compiled", "compile"]),
    "keras_noinputs.py": ("import keras\nmodel = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])\n"
                          "model.compile(loss='mse')\n", ["InputsError", "example_inputs = (x, y)"]),
    "module_target.py": ("import tensorflow as tf\nimport os as loss\nw = tf.Variable(1.0)\n",
                         ["TargetError", "not something gradflow can differentiate"]),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_model_file(run_main, tmp_path, name):
    source, expected = BAD_FILES[name]
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    code, out, err = run_main("inspect", str(path), "--format", "json", "--json", str(tmp_path / "out.json"))
    assert code == 2, err
    assert out == ""
    assert os.listdir(tmp_path) == [name]  # nothing half-written beside it
    for fragment in expected:
        assert fragment in err, (fragment, err)
    assert "site-packages/gradflow" not in err and "src/gradflow" not in err


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["inspect", "missing.py"], "no such file"),
        (["inspect", "pyproject.toml"], "not a Python file"),
        (["inspect", "examples"], "is a directory"),
        (["inspect", "examples/stop_gradient.py", "--target", "nope"], "no attribute `nope`"),
        (["inspect", "examples/stop_gradient.py", "--inputs", "nope"], "no attribute `nope`"),
        (["inspect", "examples/stop_gradient.py", "-o", "out.xyz"], "cannot tell the format"),
    ],
)
def test_bad_arguments(run_main, args, fragment):
    code, out, err = run_main(*args)
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err


def test_bad_fail_on_status(run_main):
    code, _, err = run_main("inspect", "examples/stop_gradient.py", "--fail-on", "sad")
    assert code == 2 and "unknown status sad" in err


def test_tf1_file_does_not_break_the_next_inspection(run_main):
    code, _, err = run_main("inspect", "examples/stop_gradient_tf1.py", "--format", "json")
    assert code == 0, err
    import tensorflow as tf

    assert tf.executing_eagerly()
    code, out, err = run_main("inspect", "examples/stop_gradient.py")
    assert code == 0, err
    assert "1 of 3 trainable variables learn; 2 frozen on purpose" in out


def test_debug_shows_gradflow_traceback(run_cli, tmp_path):
    path = tmp_path / "notarget.py"
    path.write_text("x = 1\n")
    proc = run_cli("inspect", str(path), "--debug")
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "TargetError" in proc.stderr


def test_debug_prints_the_whole_traceback_and_keeps_the_exit_code(run_main):
    code, out, err = run_main("inspect", "nope.py", "--debug")
    assert code == 2 and out == ""
    assert "Traceback (most recent call last)" in err and "gradflow" in err  # gradflow's own frames too
    assert err.rstrip().splitlines()[-1].startswith("ModelFileError: nope.py")
