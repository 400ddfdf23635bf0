"""The command line, through real subprocesses: examples, JSON, exit codes, start-up."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import EXAMPLES, ROOT

SCHEMA_KEYS = {"schema", "source", "target", "variables", "stop_gradients", "summary", "timings"}
VARIABLE_KEYS = {"name", "shape", "dtype", "trainable", "status", "grad_norm", "paths", "blockers"}
TIMING_KEYS = {"load_s", "trace_s", "analysis_s", "autodiff_s", "render_s"}


def check_schema(report: dict) -> None:
    """The contract's gradflow.report/1 shape."""
    assert SCHEMA_KEYS <= set(report)
    assert report["schema"] == "gradflow.report/1"
    assert set(report["timings"]) == TIMING_KEYS
    assert set(report["summary"]) == {"flows", "zero", "nonfinite", "blocked", "disconnected"}
    assert sum(report["summary"].values()) == len(report["variables"])
    for v in report["variables"]:
        assert VARIABLE_KEYS <= set(v)
        assert v["status"] in report["summary"]
        assert isinstance(v["paths"]["total"], int) and isinstance(v["paths"]["blocked"], int)
        assert v["paths"]["blocked"] <= v["paths"]["total"]
        assert (v["grad_norm"] is None) == (v["status"] in ("blocked", "disconnected", "nonfinite"))
        for b in v["blockers"]:
            assert {"op", "type", "location", "reason"} <= set(b)
            assert b["location"] is None or isinstance(b["location"]["line"], int)
    for sg in report["stop_gradients"]:
        assert {"op", "location", "shields"} <= set(sg)


def stop_gradient_line(path) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if "tf.stop_gradient(" in line)


def check_canonical(report: dict, path) -> None:
    status = {v["name"]: v["status"] for v in report["variables"]}
    assert status == {"w1": "flows", "w2": "blocked", "w3": "blocked"}
    line = stop_gradient_line(path)
    for name in ("w2", "w3"):
        (blocker,) = next(v for v in report["variables"] if v["name"] == name)["blockers"]
        assert blocker["type"] == "StopGradient"
        assert blocker["location"] == {"file": f"examples/{path.name}", "line": line}
        assert blocker["reason"] == "tf.stop_gradient"
    (sg,) = report["stop_gradients"]
    assert sg["shields"] == ["w2", "w3"] and sg["location"]["line"] == line


def test_canonical_example_tf2(inspect_json):
    report = inspect_json("examples/stop_gradient.py")
    check_schema(report)
    check_canonical(report, EXAMPLES / "stop_gradient.py")
    assert report["source"] == "examples/stop_gradient.py" and report["target"] == "loss"


def test_canonical_example_tf1(inspect_json):
    report = inspect_json("examples/stop_gradient_tf1.py")
    check_schema(report)
    check_canonical(report, EXAMPLES / "stop_gradient_tf1.py")
    assert report["kind"] == "tf1"


def test_terminal_report(run_cli):
    proc = run_cli("inspect", "examples/stop_gradient.py")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "1 of 3 trainable variables learn; 2 frozen on purpose" in out
    assert "tf.stop_gradient at examples/stop_gradient.py:" in out
    for word in ("w1", "w2", "w3", "flows", "blocked", "StopGradient"):
        assert word in out


def test_json_file_beside_terminal_report_and_fail_on(run_cli, tmp_path):
    out = tmp_path / "report.json"
    proc = run_cli("inspect", "examples/stop_gradient.py", "--json", str(out), "--fail-on", "blocked,zero")
    assert proc.returncode == 1
    assert "w2 (blocked)" in proc.stderr
    check_schema(json.loads(out.read_text()))
    assert "frozen on purpose" in proc.stdout
    proc = run_cli("inspect", "examples/stop_gradient.py", "--format", "json", "--fail-on", "nonfinite")
    assert proc.returncode == 0
    json.loads(proc.stdout)


def test_user_prints_never_reach_json_stdout(run_cli, tmp_path):
    model = tmp_path / "chatty.py"
    model.write_text(
        "import tensorflow as tf\nprint('hello from import')\nw = tf.Variable(2.0)\n"
        "def loss():\n    print('hello from trace')\n    return w * w\n"
    )
    proc = run_cli("inspect", str(model), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["variables"][0]["status"] == "flows"
    assert "hello from import" in proc.stderr


def test_json_is_deterministic_apart_from_timings(run_cli):
    runs = []
    for _ in range(2):
        proc = run_cli("inspect", "examples/stop_gradient.py", "--format", "json")
        report = json.loads(proc.stdout)
        report.pop("timings")
        runs.append(report)
    assert runs[0] == runs[1]


def test_help_does_not_import_tensorflow():
    code = (
        "import sys\nfrom gradflow.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "try:\n    main(['inspect', '--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n"
        "assert 'keras' not in sys.modules, 'keras imported'\nprint('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "usage: gradflow" in proc.stdout and proc.stdout.rstrip().endswith("ok")


def test_console_script_entry_point():
    gradflow = ROOT / ".venv" / "bin" / "gradflow"
    exe = str(gradflow) if gradflow.exists() else "gradflow"
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("gradflow ")
