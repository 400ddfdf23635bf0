"""Shared fixtures: paths, and running the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture
def run_cli():
    """Run ``python -m gradflow ARGS`` in a subprocess; returns the CompletedProcess."""

    def run(*args: str, cwd: Path | str = ROOT, timeout: float = 300, env: dict | None = None):
        full_env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "gradflow", *args],
            cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env,
        )

    return run


@pytest.fixture
def run_main(capsys, monkeypatch):
    """``gradflow.cli.main(args)`` in this process, from the repository root; returns (exit code, stdout, stderr)."""
    from gradflow.cli import main

    monkeypatch.chdir(ROOT)

    def run(*args: str):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse errors
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def inspect_json(run_cli):
    """``gradflow inspect FILE --format json``, parsed; asserts exit 0 and pure JSON on stdout."""

    def run(path: str | Path, *extra: str) -> dict:
        proc = run_cli("inspect", str(path), "--format", "json", *extra)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    return run


MISTAKES = EXAMPLES / "mistakes"


@pytest.fixture
def at_root(monkeypatch):
    """Run from the repository root, so that reports name files as examples/...."""
    monkeypatch.chdir(ROOT)


def inspect_at_root(path):
    """``gradflow.inspect_file`` on a file named relative to the root, strict (with ``at_root``)."""
    import gradflow

    return gradflow.inspect_file(os.path.relpath(path, ROOT), strict=True)
