"""gradflow docs: a static site, one page per model, built in worker processes."""

from __future__ import annotations

import os
import shutil

import pytest

from conftest import EXAMPLES


@pytest.fixture
def models(tmp_path):
    src = tmp_path / "models"
    src.mkdir()
    shutil.copy(EXAMPLES / "stop_gradient.py", src)
    shutil.copy(EXAMPLES / "int_cast.py", src)
    (src / "broken.py").write_text('raise RuntimeError("boom in the user\'s model")\n')
    return src


def _mtimes(folder):
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def test_html_site(run_cli, models, tmp_path):
    site = tmp_path / "site"
    proc = run_cli("docs", str(models), "-o", str(site), "-j", "2")
    assert proc.returncode == 1, proc.stderr  # one model failed
    assert proc.stdout == ""
    assert "broken.py" in proc.stderr and "RuntimeError" in proc.stderr
    assert sorted(p.name for p in site.iterdir()) == [".gradflow-site", "broken.html", "index.html", "int_cast.html",
                                                        "stop_gradient.html"]
    index = (site / "index.html").read_text()
    assert 'href="stop_gradient.html"' in index and 'href="int_cast.html"' in index
    assert 'class="gf-failed"' in index and "boom in the user" in index
    assert "2 analysed, 1 failed" in index
    assert "gf-pill gf-s-blocked" in index  # problem badges
    page = (site / "stop_gradient.html").read_text()
    assert "<svg" in page and "StopGradient inventory" in page and "stop_gradient.py:14" in page
    assert 'href="index.html"' in page
    assert "int_cast.py:14" in (site / "int_cast.html").read_text()
    err = (site / "broken.html").read_text()
    assert "ModelImportError" in err and "boom in the user" in err

    # Deterministic, and a second run over unchanged models rewrites nothing.
    before = _mtimes(site)
    contents = {p.name: p.read_bytes() for p in site.iterdir()}
    proc = run_cli("docs", str(models / "*.py"), "-o", str(site), "-j", "3")
    assert proc.returncode == 1
    assert "0 files written, 4 unchanged" in proc.stderr
    assert _mtimes(site) == before
    assert {p.name: p.read_bytes() for p in site.iterdir()} == contents


def test_markdown_site(run_cli, models, tmp_path):
    site = tmp_path / "md"
    os.remove(models / "broken.py")
    proc = run_cli("docs", str(models / "stop_gradient.py"), str(models / "int_cast.py"),
                   "-o", str(site), "--format", "markdown", "-j", "1")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in site.iterdir()) == [".gradflow-site", "index.md", "int_cast.md", "int_cast.svg",
                                                        "stop_gradient.md", "stop_gradient.svg"]
    md = (site / "stop_gradient.md").read_text()
    assert "![gradient-flow graph](stop_gradient.svg)" in md
    assert "| `w2` |" in md and "blocked" in md and "stop_gradient.py:14" in md
    assert (site / "stop_gradient.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert "[" in (site / "index.md").read_text() and "(int_cast.md)" in (site / "index.md").read_text()


def test_missing_path_is_a_user_error(run_cli, tmp_path):
    proc = run_cli("docs", str(tmp_path / "nope"), "-o", str(tmp_path / "site"))
    assert proc.returncode == 2
    assert "nope" in proc.stderr and "Traceback" not in proc.stderr


def test_jobs_below_one_is_a_usage_error(run_cli, tmp_path):
    proc = run_cli("docs", str(tmp_path), "-o", str(tmp_path / "site"), "-j", "0")
    assert proc.returncode == 2
    assert "argument -j/--jobs: '0': give a whole number, 1 or more" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_removed_models_pages_go_and_nothing_else_is_touched(run_cli, models, tmp_path):
    site = tmp_path / "md"
    os.remove(models / "broken.py")
    proc = run_cli("docs", str(models), "-o", str(site), "--format", "markdown", "-j", "2")
    assert proc.returncode == 0, proc.stderr
    assert (site / "int_cast.md").exists() and (site / "int_cast.svg").exists()
    (site / "notes.md").write_text("the user's own file\n")

    os.remove(models / "int_cast.py")
    proc = run_cli("docs", str(models), "-o", str(site), "--format", "markdown", "-j", "1")
    assert proc.returncode == 0, proc.stderr
    assert "2 removed" in proc.stderr
    assert sorted(p.name for p in site.iterdir()) == [".gradflow-site", "index.md", "notes.md",
                                                        "stop_gradient.md", "stop_gradient.svg"]
    assert "int_cast" not in (site / "index.md").read_text()
    assert (site / "notes.md").read_text() == "the user's own file\n"
