"""``pytest --gradflow-models GLOB [--gradflow-baseline DIR]``: one test per model file, under xdist ``-n 2``.

Runs a real pytest in a subprocess on a small zoo in a temporary folder (models
copied from tests/diff_cases/: one that learns everywhere, one frozen on purpose,
one with a detached head, whose verdict TensorFlow's autodiff confirms).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from oracle import tf_answer

CASES = Path(__file__).resolve().parent / "diff_cases"
SRC = Path(__file__).resolve().parent.parent / "src"


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=str(SRC) + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else ""))
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("GRADFLOW_UPDATE_BASELINE", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                           "--rootdir", str(folder), *args],
                          cwd=folder, capture_output=True, text=True, timeout=600, env=env)


def _zoo(tmp_path: Path) -> Path:
    (tmp_path / "models" / "sub").mkdir(parents=True)
    shutil.copy(CASES / "before.py", tmp_path / "models" / "learns.py")
    shutil.copy(CASES / "after_stop_gradient.py", tmp_path / "models" / "sub" / "frozen.py")
    shutil.copy(CASES / "after_head_detached.py", tmp_path / "models" / "detached.py")
    (tmp_path / "models" / "_helper.py").write_text("raise RuntimeError('not a model')\n")
    return tmp_path


def test_models_under_xdist(tmp_path):
    zoo = _zoo(tmp_path)
    proc = _pytest(zoo, "--gradflow-models", "models/**/*.py", "-n", "2", "-rA")
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "1 failed, 2 passed" in out
    assert "FAILED models/detached.py::gradflow[models/detached.py]" in out
    assert "aux: disconnected" in out
    assert "PASSED models/sub/frozen.py::gradflow[models/sub/frozen.py]" in out
    assert "_helper" not in out
    assert tf_answer(str(zoo / "models" / "detached.py"))["aux"]["none"]


@pytest.mark.slow
def test_models_with_baselines(tmp_path):
    """Recorded, then green (the detached head is accepted), then red on a new regression."""
    zoo = _zoo(tmp_path)
    proc = _pytest(zoo, "--gradflow-models", "models/**/*.py", "--gradflow-baseline", "baselines",
                   "--gradflow-update-baseline")
    assert proc.returncode == 0, proc.stdout
    recorded = sorted(p.relative_to(zoo).as_posix() for p in (zoo / "baselines").rglob("*.json"))
    assert recorded == ["baselines/models/detached.py.json", "baselines/models/learns.py.json",
                        "baselines/models/sub/frozen.py.json"]
    proc = _pytest(zoo, "--gradflow-models", "models/**/*.py", "--gradflow-baseline", "baselines", "-n", "2")
    assert proc.returncode == 0, proc.stdout
    shutil.copy(CASES / "after_argmax.py", zoo / "models" / "learns.py")
    proc = _pytest(zoo, "--gradflow-models", "models/**/*.py", "--gradflow-baseline", "baselines",
                   "-k", "learns")
    assert proc.returncode == 1, proc.stdout
    assert "head: flows -> blocked (regression): ArgMax" in proc.stdout
    assert "1 failed, 2 deselected" in proc.stdout
