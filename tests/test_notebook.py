"""The report in a real Jupyter kernel (nbclient runs a notebook; ipykernel executes it).

Checks what a notebook user sees: ``report`` as a cell's value is short text
plus the problems-first HTML with the graph folded away; ``print(report)`` is
text only; locations name the notebook cell ("cell [2], line 5"), not the
kernel's temporary file.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent

CELLS = [
    "import tensorflow as tf\nimport gradflow\nw1 = tf.Variable([[1.0], [2.0]], name='w1')\n"
    "w2 = tf.Variable([[3.0], [4.0]], name='w2')\nx = tf.ones((3, 2))",
    "@tf.function\ndef loss():\n    h = tf.matmul(x, w2)\n    frozen = tf.stop_gradient(h)\n"
    "    return tf.reduce_mean(tf.matmul(x, w1) - frozen)",
    "report = gradflow.inspect(loss, variables=[w1, w2])\nreport",
    "print(report)",
]


def run_notebook(tmp_path: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    env_path = str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = env_path  # the kernel inherits it: this checkout's gradflow
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    nbformat.write(nb, tmp_path / "report.ipynb")
    return nb


def test_report_in_a_real_kernel(tmp_path):
    nb = run_notebook(tmp_path)
    value = [o for o in nb.cells[2].outputs if o.output_type == "execute_result"]
    assert len(value) == 1
    data = value[0].data
    assert set(data) == {"text/plain", "text/html"}
    text = data["text/plain"]
    assert text.startswith("<gradflow.Report loss: 1 of 2 trainable variables learn; 1 frozen on purpose>")
    assert len(text.encode()) <= 2048
    html = data["text/html"]
    assert html.index("gf-verdict") < html.index("<details><summary>gradient-flow graph")
    assert "tf.stop_gradient at cell [2], line 4" in html
    printed = nb.cells[3].outputs
    # print(report): a stream of text, nothing displayed before it.
    assert [o.output_type for o in printed] == ["stream"]
    out = printed[0].text
    assert "1 of 2 trainable variables learn; 1 frozen on purpose" in out
    assert "tf.stop_gradient at cell [2], line 4" in out
    assert "ipykernel" not in out and "<pre" not in out
    assert (tmp_path / "report.ipynb").stat().st_size < 200_000
