"""render/files.py and render/html.py on real reports: Graphviz's dot, files, the CLI.

Runs the real ``dot`` (installed by ``make test``; never skipped) on reports of
real model files, and the CLI through subprocesses the way users run it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import gradflow
from gradflow.errors import RenderError
from gradflow.render import files
from gradflow.render.files import GraphOptions, render_svg, run_dot, write_outputs
from gradflow.render.files import notebook_html, to_html
from gradflow.render.html import CSP

REPO = Path(__file__).resolve().parent.parent
CANONICAL = REPO / "examples" / "stop_gradient.py"
HOSTILE_SOURCE = textwrap.dedent('''\
    import tensorflow as tf

    a = tf.Variable([1.0, 2.0], name="<script>alert(1)</script>")
    b = tf.Variable([3.0, 4.0], name='" onload="x')
    c = tf.Variable([1.0], name="back\\\\slash\\\\")

    @tf.function
    def loss():
        return tf.reduce_sum(a * 2.0) + tf.reduce_sum(tf.stop_gradient(b)) + tf.reduce_sum(c)
    ''')


def env(**extra):
    e = dict(os.environ)
    e.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    e["PYTHONHASHSEED"] = "0"
    src = str(REPO / "src")
    e["PYTHONPATH"] = src + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
    e.update(extra)
    return e


def gradflow_cli(*args, cwd=REPO, **extra):
    return subprocess.run([sys.executable, "-m", "gradflow", "inspect", *map(str, args)], cwd=cwd,
                          env=env(**extra), capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def report():
    cwd = os.getcwd()
    os.chdir(REPO)  # locations relative to the repository, as the CLI gives them
    try:
        return gradflow.inspect_file("examples/stop_gradient.py")
    finally:
        os.chdir(cwd)


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "hostile.py"
    path.write_text(HOSTILE_SOURCE)
    return path


@pytest.fixture(scope="module")
def hostile(hostile_file):
    return gradflow.inspect_file(str(hostile_file))


class TestSvg:
    def test_real_dot_svg_of_the_canonical_example(self, report):
        svg = report.to_svg()
        assert svg.lstrip().startswith("<?xml") and svg.rstrip().endswith("</svg>")
        # Titles (tooltips) describe each node: op type, name, dtype, shape, source line, status.
        titles = re.findall(r'class="node">\s*<title>(.*?)</title>', svg, re.DOTALL)
        assert len(titles) >= 10
        matmul = next(t for t in titles if t.startswith("MatMul matmul"))
        assert "float32" in matmul and "[8, 1]" in matmul and "examples/stop_gradient.py:14" in matmul
        assert "status:" in matmul
        sg = next(t for t in titles if t.startswith("StopGradient"))
        assert "tf.stop_gradient" in sg
        w1 = next(t for t in titles if t.startswith("variable w1"))
        assert "status: flows" in w1
        # The legend is drawn, and the StopGradient is a red octagon (8 points).
        assert "legend" in svg
        assert report.variable("w1").status.value == "flows"

    def test_svg_is_deterministic(self, report):
        files._CACHE.clear()
        a = render_svg(report)
        files._CACHE.clear()
        b = render_svg(report)
        assert a == b

    def test_report_methods(self, report, tmp_path):
        dot = report.to_dot()
        assert "StopGradient" in dot.source
        out = report.render(str(tmp_path / "g.svg"))
        assert Path(out).read_text().rstrip().endswith("</svg>")
        report.render(str(tmp_path / "g.dot"))
        assert (tmp_path / "g.dot").read_text() == dot.source
        report.render(str(tmp_path / "g.png"))
        assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        report.render(str(tmp_path / "g.pdf"))
        assert (tmp_path / "g.pdf").read_bytes()[:5] == b"%PDF-"
        report.render(str(tmp_path / "g.html"))
        assert "<svg" in (tmp_path / "g.html").read_text()
        with pytest.raises(RenderError, match="suffix"):
            report.render(str(tmp_path / "g.jpeg"))
        with pytest.raises(TypeError, match="unknown option"):
            report.to_svg(colour="blue")
        assert report.timings["render_s"] > 0

    def test_notebook_reprs(self, report):
        html = report._repr_html_()
        assert "<table" in html and "<svg" in html and "<script" not in html
        # Problems first, the graph folded away; no second copy of the graph as image/svg+xml.
        assert html.index("gf-verdict") < html.index("<details><summary>gradient-flow graph") < html.index("<svg")
        assert not hasattr(report, "_repr_svg_")

    def test_pdf_is_deterministic(self, report, tmp_path):
        import time

        a = run_dot(report.to_dot().source, "pdf")
        time.sleep(1.1)  # across a second boundary: no date stamp may differ
        b = run_dot(report.to_dot().source, "pdf")
        assert a == b
        assert b"19700101000000" in a


class TestHtml:
    def test_self_contained(self, report):
        page = to_html(report)
        assert page.startswith("<!DOCTYPE html>")
        assert f'content="{CSP}"' in page.replace("&#x27;", "'")
        assert "default-src 'none'" in CSP
        # Nothing to fetch: no external URL in src/href, no @import, no url().
        assert not re.search(r'''(?:src|href)\s*=\s*["']?(?:https?:|//)''', page)
        assert "@import" not in page and "url(" not in page
        for part in ("gf-filter", "data-status=\"blocked\"", "<svg", "StopGradient inventory", "w1", "w2"):
            assert part in page
        assert "<?xml" not in page  # the SVG is inlined without its prolog

    def test_deterministic(self, report):
        files._CACHE.clear()
        a = to_html(report)
        files._CACHE.clear()
        b = to_html(report)
        assert a == b

    def test_hostile_names_are_text(self, hostile):
        page = to_html(hostile)
        assert "<script>alert" not in page and page.count("<script>") == 1  # the page's own script
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert 'onload="' not in page
        assert "&quot; onload=&quot;x" in page
        nb = notebook_html(hostile)
        assert "<script" not in nb and "&lt;script&gt;alert(1)&lt;/script&gt;" in nb


class TestWriting:
    def test_atomic_replace_keeps_the_old_file_on_failure(self, report, tmp_path, monkeypatch):
        out = tmp_path / "g.svg"
        out.write_text("old")

        def boom(*args, **kwargs):
            raise RenderError("layout failed")

        monkeypatch.setattr(files, "run_dot", boom)
        files._CACHE.clear()
        with pytest.raises(RenderError):
            write_outputs(report, [(str(out), "svg")], GraphOptions())
        assert out.read_text() == "old"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["g.svg"]  # no temporary left behind

    def test_dot_is_written_before_anything_needs_graphviz(self, report, tmp_path, monkeypatch):
        monkeypatch.setattr(files.shutil, "which", lambda name: None)
        files._CACHE.clear()
        with pytest.raises(RenderError, match="install"):
            write_outputs(report, [(str(tmp_path / "g.svg"), "svg"), (str(tmp_path / "g.dot"), "dot")],
                          GraphOptions())
        assert (tmp_path / "g.dot").read_text().startswith("digraph")
        assert not (tmp_path / "g.svg").exists()

    def test_timeout_suggests_collapse(self):
        # A graph dot needs far longer than 10 ms for.
        edges = "\n".join(f"n{i} -> n{(i * 7919) % 3000}; n{i} -> n{(i * 104729) % 3000};" for i in range(3000))
        with pytest.raises(RenderError, match="--collapse"):
            run_dot("digraph {\n" + edges + "\n}", "svg", timeout=0.01)

    def test_install_hint_names_a_command(self):
        hint = files.install_hint()
        assert "graphviz" in hint
        if shutil.which("apt-get"):
            assert "apt-get install graphviz" in hint


def gradflow_cli_start(*args, cwd=REPO, **extra):
    return subprocess.Popen([sys.executable, "-m", "gradflow", "inspect", *map(str, args)], cwd=cwd,
                            env=env(**extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class TestCli:
    def test_outputs_and_repeated_runs_are_byte_identical(self, tmp_path):
        procs = []
        for run in ("1", "2"):
            d = tmp_path / run
            d.mkdir()
            procs.append(gradflow_cli_start(CANONICAL, "--svg", d / "g.svg", "--dot", d / "g.dot", "-o",
                                            d / "g.html", "-o", d / "g.png", "--format", "json"))
        for proc in procs:
            out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err
            assert out.lstrip().startswith("{")  # stdout is the JSON alone
        d = tmp_path / "1"
        svg = (d / "g.svg").read_text()
        assert "variable w1" in svg and "StopGradient" in svg
        assert (d / "g.dot").read_text().startswith("digraph")
        assert "<svg" in (d / "g.html").read_text()
        assert (d / "g.png").read_bytes()[:4] == b"\x89PNG"
        for name in ("g.svg", "g.dot", "g.html", "g.png"):
            assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name

    def test_unknown_focus_exits_2_with_close_names(self, tmp_path, capsys):
        from gradflow.cli import main

        code = main(["inspect", str(CANONICAL), "--svg", str(tmp_path / "g.svg"), "--focus", "w4"])
        assert code == 2
        err = capsys.readouterr().err
        assert "w1" in err and "--focus" in err
        assert not (tmp_path / "g.svg").exists()

    def test_missing_dot_exits_2_and_still_writes_dot(self, tmp_path):
        empty = tmp_path / "bin"
        empty.mkdir()
        r = gradflow_cli(CANONICAL, "--svg", tmp_path / "g.svg", "--dot", tmp_path / "g.dot", PATH=str(empty))
        assert r.returncode == 2, r.stderr
        assert "dot" in r.stderr and files.install_hint().split("   ")[0] in " ".join(r.stderr.split())
        assert "Traceback" not in r.stderr
        assert (tmp_path / "g.dot").read_text().startswith("digraph")
        assert not (tmp_path / "g.svg").exists()

    def test_hostile_model_through_the_cli(self, hostile_file, tmp_path):
        r = gradflow_cli(hostile_file, "--svg", tmp_path / "h.svg", "--html", tmp_path / "h.html", "--dot",
                         tmp_path / "h.dot", cwd=hostile_file.parent)
        assert r.returncode == 0, r.stderr
        svg = (tmp_path / "h.svg").read_text()
        assert "<script" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
        html = (tmp_path / "h.html").read_text()
        assert html.count("<script") == 1 and 'onload="' not in html
        # The DOT still parses: Graphviz draws it.
        proc = subprocess.run(["dot", "-Tsvg", str(tmp_path / "h.dot")], capture_output=True, check=False)
        assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def densenet():
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        return gradflow.inspect_file("examples/densenet.py")
    finally:
        os.chdir(cwd)


@pytest.mark.slow
class TestDenseNet:
    def test_collapsed_automatically_in_the_time_of_tracing(self, densenet, tmp_path, capsys):
        files._CACHE.clear()
        before = densenet.timings.get("render_s", 0.0)
        out = tmp_path / "densenet.svg"
        write_outputs(densenet, [(str(out), "svg")], GraphOptions())
        render_s = densenet.timings["render_s"] - before
        assert render_s < 3 * densenet.timings["trace_s"] + 1.0, (render_s, densenet.timings)
        note = capsys.readouterr().err
        assert "collapsed to depth" in note and "--collapse/--focus" in note
        svg = out.read_text()
        assert "collapsed to depth" in svg  # said in the picture too
        groups = re.findall(r"<title>collapsed scope ([^\n<]*)", svg)
        assert 20 <= len(groups) and len(re.findall(r'class="node"', svg)) <= 300 + 20  # + the legend
        assert any("conv4_block12" in g for g in groups)

    def test_focus_draws_one_variable_fully(self, densenet, tmp_path):
        out = tmp_path / "focus.svg"
        write_outputs(densenet, [(str(out), "svg")], GraphOptions(focus="conv5_block16_2_conv/kernel"))
        svg = out.read_text()
        assert "<title>variable conv5_block16_2_conv/kernel" in svg
        assert "<title>collapsed scope" not in svg
        titles = re.findall(r'class="node">\s*<title>([^\n<]*)', svg)
        assert sum(t.startswith("variable ") for t in titles) == 1
        assert any(t.startswith("Conv2D ") for t in titles) and any(t.startswith("StopGradient") for t in titles)

    def test_html_of_a_big_model(self, densenet):
        page = to_html(densenet)
        assert page.count('<tr data-status="') == len(densenet.variables)
        assert len(page.encode()) < 1_000_000
        # A row's search text is its own: no other layer's op names (BatchNorm moments downstream).
        searches = re.findall(r'data-search="([^"]*)"', page)
        first = next(s for s in searches if s.startswith("conv1/conv/kernel") or s.startswith("conv1_conv/kernel"))
        assert "conv5" not in first and "moments" not in first
        # Problems first: the verdict leads, and a healthy DenseNet shows no red pill in it.
        assert page.index("gf-verdict") < page.index('id="gf-variables"')
        assert 'gf-verdict gf-headline gf-ok' in page

    def test_healthy_big_model_fits_one_screen(self, densenet):
        from gradflow.render.terminal import render_text

        text = render_text(densenet, width=120)
        assert len(text.splitlines()) <= 25
        lines = text.splitlines()
        assert lines[2].startswith("loss: ")  # header, inputs, the loss value, then the verdict
        assert "✗" not in text and "trainable variables learn" in lines[4]
