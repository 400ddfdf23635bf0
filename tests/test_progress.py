"""Progress: stages through the API's callback; a stage line only on a terminal's stderr."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import tensorflow as tf

import gradflow
from gradflow.progress import StageLine

REPO = Path(__file__).resolve().parent.parent


def test_the_api_reports_stages_through_a_callback():
    w = tf.Variable([1.0, 2.0], name="w")
    stages: list[str] = []
    gradflow.inspect(lambda: tf.reduce_sum(w * w), variables=[w], progress=stages.append)
    assert stages[0] == "tracing" and stages[-1] == "analysis"
    assert stages[1].startswith("traced ") and stages[1].endswith("TensorFlow autodiff over 1 variables")


def test_inspect_file_starts_with_loading():
    stages: list[str] = []
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        gradflow.inspect_file("examples/stop_gradient.py", progress=stages.append)
    finally:
        os.chdir(cwd)
    assert stages[:2] == ["loading", "tracing"] and "autodiff over 3 variables" in stages[2]


def test_no_stage_line_when_stderr_is_not_a_terminal():
    stream = io.StringIO()
    with StageLine(stream=stream) as line:
        line("tracing")
    assert stream.getvalue() == "" and not line.active


def _run_with_tty_stderr(*args: str, cwd: Path) -> tuple[str, str]:
    master, slave = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
               TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen([sys.executable, "-m", "gradflow", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    out = proc.stdout.read().decode()
    proc.wait(timeout=300)
    os.close(master)
    return out, b"".join(chunks).decode("utf-8", "replace")


def test_stage_line_and_wrote_on_a_terminal(tmp_path):
    svg = tmp_path / "flow.svg"
    out, err = _run_with_tty_stderr("inspect", "examples/stop_gradient.py", "--svg", str(svg), cwd=REPO)
    assert svg.exists()
    assert "trainable variables learn" in out and "\x1b" not in out  # stdout is the report alone
    assert "TensorFlow autodiff over 3 variables" in err and "0:00:" in err  # the stage and its elapsed time
    assert f"wrote {svg}" in err


def test_nothing_extra_with_format_json(tmp_path):
    out, err = _run_with_tty_stderr("inspect", "examples/stop_gradient.py", "--format", "json", cwd=REPO)
    assert out.startswith("{")
    assert "autodiff" not in err and "wrote" not in err
