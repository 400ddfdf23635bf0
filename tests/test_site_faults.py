"""gradflow docs under faults: models that crash, kill their worker, hang; Ctrl-C and SIGTERM of
the parent; page-name collisions; a bad -o. Each case runs the real CLI in a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT

GOOD = '''import tensorflow as tf

w = tf.Variable(1.0, name="w")


def loss():
    return w * 2.0
'''


def _model(folder: Path, name: str, text: str = GOOD) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(condition, what: str, limit: float = 120.0) -> None:
    """Poll until ``condition()`` (no timing is asserted: the limit only keeps a broken run from hanging)."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.2)


def test_crash_kill_exit_and_hang_fail_alone(run_cli, tmp_path):
    models = tmp_path / "models"
    _model(models, "a_good.py")
    _model(models, "b_exits.py", "import os\nos._exit(1)\n")
    _model(models, "c_killed.py", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    _model(models, "d_hangs.py", "while True:\n    pass\n")
    _model(models, "e_good.py")
    _model(models, "f_segfault.py", "import ctypes\nctypes.string_at(0)\n")
    _model(models, "g_good.py")
    site = tmp_path / "site"
    proc = run_cli("docs", str(models), "-o", str(site), "-j", "2", "--timeout", "30")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "7 models, 4 failed" in proc.stderr
    index = (site / "index.html").read_text()
    assert index.count('class="gf-failed"') == 4
    for good in ("a_good", "e_good", "g_good"):
        assert "<svg" in (site / f"{good}.html").read_text()
    assert "ModelExitError" in (site / "b_exits.html").read_text() and "os._exit(1)" in index
    assert "killed by SIGKILL" in (site / "c_killed.html").read_text()
    assert "timed out" in (site / "d_hangs.html").read_text()
    assert "killed by SIGSEGV" in (site / "f_segfault.html").read_text()


def test_page_name_collisions_are_resolved_and_reported(run_cli, tmp_path):
    models = tmp_path / "models"
    for name in ("index.py", "a b.py", "a-b.py", "sub/x.py", "sub__x.py", "Case.py", "case.py", "plain.py"):
        _model(models, name)
    site = tmp_path / "site"
    proc = run_cli("docs", str(models), "-o", str(site), "-j", "2")
    assert proc.returncode == 0, proc.stderr
    pages = sorted(p.name for p in site.glob("*.html"))
    assert len(pages) == 9 and "index.html" in pages and "plain.html" in pages
    assert len({p.lower() for p in pages}) == 9
    index = (site / "index.html").read_text()
    assert "8 analysed, 0 failed" in index
    assert proc.stderr.count("page name collision") == 7  # every colliding model, not plain.py
    # Stable: the same inputs give the same names.
    again = run_cli("docs", str(models), "-o", str(site), "-j", "1")
    assert again.returncode == 0 and "0 files written" in again.stderr


@pytest.mark.parametrize("make", ["file", "inside_file", "read_only", "proc"])
def test_bad_output_fails_before_analysing(run_cli, tmp_path, make):
    models = tmp_path / "models"
    _model(models, "m.py", "raise SystemExit('this model must never be imported')\n")
    target = tmp_path / "out"
    if make == "file":
        target.write_text("a file\n")
    elif make == "inside_file":
        target.write_text("a file\n")
        target = target / "site"
    elif make == "proc":
        target = Path("/proc/gradflow-site")  # nobody, root included, creates a folder there
    else:
        target.mkdir()
        target.chmod(0o500)
        if os.access(target, os.W_OK):  # root: the mode does not stop it
            target = Path("/proc/self/gradflow-site")
    proc = run_cli("docs", str(models), "-o", str(target))
    assert proc.returncode == 2, proc.stderr
    assert "-o" in proc.stderr and str(target.name) in proc.stderr and "Traceback" not in proc.stderr
    assert "analysing" not in proc.stderr and "must never" not in proc.stderr


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), pytest.param(signal.SIGINT, 130, marks=pytest.mark.slow)])
def test_signal_to_parent_writes_what_finished(tmp_path, signum, code):
    models = tmp_path / "models"
    _model(models, "a_good.py")
    pidfile = tmp_path / "hang.pid"
    _model(models, "b_hangs.py", f"import os\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
                                 "while True:\n    pass\n")
    site = tmp_path / "site"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.Popen([sys.executable, "-m", "gradflow", "docs", str(models), "-o", str(site), "-j", "2"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), "the hanging model to start")
        hang_pid = int(pidfile.read_text())
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert "interrupted" in err
    index = (site / "index.html").read_text()
    assert "b_hangs.py" in index and "Interrupted" in (site / "b_hangs.html").read_text()
    _wait_for(lambda: not _pid_alive(hang_pid), "the hanging worker to go (no orphans)", limit=30)
    assert [p.name for p in site.glob(".gradflow-*")] == [".gradflow-site"]  # no temp file left


def test_page_names_unique_stable_and_never_index():
    from gradflow.site import page_names, renamed_pages

    models = ["m/index.py", "m/a b.py", "m/a-b.py", "m/sub/x.py", "m/sub__x.py", "m/Case.py", "m/case.py",
              "m/plain.py", "m/.hidden.py", "m/ünï.py"]
    names = page_names(models)
    assert len({n.lower() for n in names.values()}) == len(models)
    assert "index" not in {n.lower() for n in names.values()}
    assert names["m/plain.py"] == "plain"
    assert names == page_names(list(reversed(models)))  # the order of the inputs does not matter
    assert all(n.isascii() and not n.startswith(".") for n in names.values())
    assert {m for m, _ in renamed_pages(models, names)} == {
        "m/index.py", "m/a b.py", "m/a-b.py", "m/sub/x.py", "m/sub__x.py", "m/Case.py", "m/case.py"}
    # A model's name does not depend on unrelated models.
    assert page_names(["m/plain.py", "m/other.py"])["m/plain.py"] == "plain"


def test_a_worker_sets_its_imports_aside_from_the_collector(tmp_path):
    # The worker imports TensorFlow once; no model's collections walk it again (gc.freeze).
    # Each model's own objects are not frozen: they are collected when the model ends.
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import gc, sys\nfrom gradflow.site import worker_setup\n"
        "worker_setup()\n"
        "open(sys.argv[1], 'w').write(f'{gc.get_freeze_count()} {gc.isenabled()}')\n")
    out = tmp_path / "out.txt"
    subprocess.run([sys.executable, str(probe), str(out)], check=True, timeout=300)
    frozen, enabled = out.read_text().split()
    assert int(frozen) > 100_000 and enabled == "True"
