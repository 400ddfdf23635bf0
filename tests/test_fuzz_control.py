"""Fuzzing, control-flow palette: random small model files, gradflow vs TensorFlow's autodiff.

tests/fuzz/strategies.py writes each program as source text; tests/fuzz/harness.py
runs TensorFlow (tests/oracle.py) and ``gradflow.inspect_file(strict=True)`` on
it in-process and applies tests/test_differential.py's agreement rule. This palette adds
tf.cond, tf.while_loop and tf.switch_case, whose branches and bodies hold the
dataflow palette's ops and cuts; the dataflow palette is in tests/test_fuzz.py (a
second file, so that `make test`'s two xdist workers share the examples).

`make test` runs a fixed, derandomized set; `make fuzz` runs thousands of random
ones (GRADFLOW_FUZZ_PROFILE=fuzz, GRADFLOW_FUZZ_EXAMPLES=N).
"""

from __future__ import annotations

import pytest
from hypothesis import event, given, settings

from fuzz.harness import FUZZ_SETTINGS, check_source
from fuzz.strategies import programs


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz_control")


@settings(FUZZ_SETTINGS)
@given(program=programs("control"))
def test_fuzz_control_agrees_with_tensorflow(fuzz_dir, program):
    for op in sorted(set(program.ops)):
        event(f"op {op}")
    check_source(program.source, fuzz_dir)
