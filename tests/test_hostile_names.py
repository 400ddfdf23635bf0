"""Hostile names in every output format: a model file whose own name and variable names carry
HTML, rich markup, Markdown, escape sequences, right-to-left overrides and newlines.

Every output is checked by a real consumer: SVG by an XML parser, DOT by Graphviz
(``dot -Tcanon``), HTML and Markdown (through markdown-it-py, a CommonMark renderer with
GitHub's tables) in headless Chromium, with no injected element and no dialog; the terminal
output holds no raw control or bidi character.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from test_html_browser import Browser

NAMES = ["<img src=x onerror=alert(1)>", "[/oops] [bold]x", "esc\x1b[31mred", "rtl\u202egnp.py",
         "pipe|back`tick\nnewline", "amp&quot;<b>bold</b>", "*em* _u_ [link](http://x) ![i](x)"]
FROZEN = "<script>alert(2)</script>"
FILE_NAME = "evil <img src=x onerror=alert(3)> [bold] |\nx\x1b[31m\u202eyp.py"
RAW = ["\x1b", "\u202e"]

MODEL = f'''import tensorflow as tf

NAMES = {NAMES!r}
ws = [tf.Variable(float(i + 1), name=n) for i, n in enumerate(NAMES)]
frozen = tf.Variable(1.0, name={FROZEN!r})


def loss():
    total = tf.add_n([w * 2.0 for w in ws])
    return total + tf.stop_gradient(frozen * 3.0)
'''

# Elements a hostile name could inject (the report's own script never mentions alert).
INJECTED = ("document.querySelectorAll('img:not([src$=\".svg\"]), b, [onerror], [onload], a[href^=\"http\"]').length"
            " + Array.from(document.scripts).filter(s => s.textContent.includes('alert(')).length")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    import sys

    from conftest import ROOT

    folder = tmp_path_factory.mktemp("hostile")
    models = folder / "models"
    models.mkdir()
    model = models / FILE_NAME
    model.write_text(MODEL)
    (models / "good.py").write_text("import tensorflow as tf\nw = tf.Variable(1.0)\ndef loss():\n    return w\n")
    out = {"svg": folder / "g.svg", "dot": folder / "g.dot", "html": folder / "r.html", "json": folder / "r.json"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "gradflow", *a], cwd=ROOT, capture_output=True,  # noqa: E731
                                    text=True, timeout=600)
    inspect = run("inspect", str(model), "--svg", str(out["svg"]), "--dot", str(out["dot"]),
                  "--html", str(out["html"]), "--json", str(out["json"]))
    assert inspect.returncode == 0, inspect.stderr
    explain = run("explain", str(model), "*")
    assert explain.returncode == 0, explain.stderr
    md = run("docs", str(models), "-o", str(folder / "md"), "--format", "markdown", "-j", "1")
    assert md.returncode == 0, md.stderr
    site = run("docs", str(models), "-o", str(folder / "site"), "-j", "1")
    assert site.returncode == 0, site.stderr
    return {"files": out, "inspect": inspect, "explain": explain, "md": folder / "md", "site": folder / "site",
            "docs_stderr": md.stderr + site.stderr, "folder": folder}


def _no_raw(text: str) -> None:
    for ch in RAW:
        assert ch not in text, repr(ch)


def test_svg_is_well_formed_xml(outputs):
    svg = outputs["files"]["svg"].read_text()
    ET.fromstring(svg)
    _no_raw(svg)
    for page in outputs["md"].glob("*.svg"):
        ET.fromstring(page.read_text())


def test_dot_parses(outputs):
    proc = subprocess.run(["dot", "-Tcanon", str(outputs["files"]["dot"])], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    _no_raw(outputs["files"]["dot"].read_text())


def test_json_keeps_the_exact_names(outputs):
    data = json.loads(outputs["files"]["json"].read_text())
    names = sorted(v["name"][:-2] if v["name"].endswith(":0") else v["name"] for v in data["variables"])
    assert names == sorted(NAMES + [FROZEN])


def test_terminal_output_is_inert(outputs):
    for proc in (outputs["inspect"], outputs["explain"]):
        _no_raw(proc.stdout + proc.stderr)
        assert "[/oops] [bold]x" in proc.stdout  # shown literally, not read as markup
    _no_raw(outputs["docs_stderr"])
    assert "Traceback" not in outputs["docs_stderr"]


def _markdown_pages(outputs):
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    pages = {}
    for page in sorted(outputs["md"].glob("*.md")):
        body = md.render(page.read_text())
        html = f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{body}</body></html>"
        target = outputs["folder"] / f"rendered-{page.stem}.html"
        target.write_text(html, encoding="utf-8")
        pages[page.name] = (page.read_text(), body, target)
    return pages


def test_markdown_is_inert_and_tables_stay_valid(outputs):
    pages = _markdown_pages(outputs)
    assert len(pages) == 3  # index, the hostile model, good
    source, body, _ = next(v for k, v in pages.items() if k not in ("index.md", "good.md"))
    _no_raw(source)
    for bad in ("<script", "<b>", "<a href"):
        assert bad not in body
    assert body.count("<img") == 1 and '<img src="evil-' in body and '.svg" alt="gradient-flow graph"' in body
    # The variables table: a header and one row per variable, every row with 7 cells.
    table = body.split("<table>")[1].split("</table>")[0]
    rows = table.count("<tr>")
    assert rows == 1 + len(NAMES) + 1
    assert all(row.count("<td") == 7 for row in table.split("<tr>")[2:])
    index_body = pages["index.md"][1]
    assert "<img" not in index_body and index_body.count("<tr>") == 3


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


def test_html_and_markdown_in_chromium_inject_nothing(outputs, browser):
    pages = [outputs["files"]["html"], *sorted(outputs["site"].glob("*.html"))]
    pages += [target for _, _, target in _markdown_pages(outputs).values()]
    assert len(pages) == 1 + 3 + 3
    for page in pages:
        browser.open(page)
        assert browser.js(INJECTED) == 0, page.name
        assert not [e for e in browser.events if e["method"] == "Page.javascriptDialogOpening"], page.name
        text = browser.js("document.body.innerText")
        _no_raw(text)
    browser.open(outputs["files"]["html"])
    assert "\\u202egnp.py" in browser.js("document.body.innerText")  # the override shows, not acts


def test_site_page_names_are_plain(outputs):
    names = sorted(p.name for p in outputs["site"].iterdir())
    assert all(n.isascii() and "\n" not in n and " " not in n for n in names)
    assert shutil.which("dot")
