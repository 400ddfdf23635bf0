"""Regressions found by the fuzz tests (tests/test_fuzz.py, tests/test_fuzz_control.py).

Each is a minimal model file tests/corpus/regress_<what>.py (test_differential
runs it through the CLI too). Here each runs in-process with
``gradflow.inspect_file(strict=True)``, as the fuzz tests do: a disagreement that
the CLI hides (strict=False follows TensorFlow's verdict and only adds a note)
still fails here as an AnalysisMismatch.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fuzz.harness import check_path

CORPUS = Path(__file__).resolve().parent / "corpus"
REGRESSIONS = sorted(CORPUS.glob("regress_*.py"))


@pytest.mark.parametrize("model_file", REGRESSIONS, ids=[p.stem for p in REGRESSIONS])
def test_fuzz_regression(model_file: Path):
    problems = check_path(model_file)
    assert not problems, (
        f"gradflow disagrees with TensorFlow on {model_file.name}:\n{model_file.read_text()}\n"
        + "\n".join(problems)
    )


# Two model files whose `loss` functions are the same code at the same lines (only
# module-level values differ), inspected one after the other in one process.
_TWIN = '''import tensorflow as tf

w0 = tf.Variable([{value}, 0.5], name="w0")
w1 = tf.Variable(2.0, name="w1")


@tf.function
def loss():
    return tf.reduce_sum(tf.round(w0)) + w1
'''


def test_regress_twin_files_locations_name_their_own_file(tmp_path):
    """Found by the fuzz tests: the second file's blocker was located in the first file.

    TensorFlow's autograph caches converted functions by code object, and two
    code objects compare equal when only their co_filename differs, so the second
    file's traced ops carry the first file's tracebacks. gradflow reports those
    frames as the user's line: `w0`'s Round blocker in b.py is said to be at a.py:9.
    """
    import gradflow

    first, second = tmp_path / "a.py", tmp_path / "b.py"
    first.write_text(_TWIN.format(value=0.5))
    second.write_text(_TWIN.format(value=1.5))
    for path in (first, second):
        report = gradflow.inspect_file(str(path), strict=True)
        (blocker,) = report.variable("w0").blockers
        assert blocker.type == "Round"
        assert blocker.location is not None and blocker.location.line == 9
        assert os.path.realpath(blocker.location.file) == os.path.realpath(path), (
            f"{path.name}'s Round is located in {blocker.location.file}"
        )
