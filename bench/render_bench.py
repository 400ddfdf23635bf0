"""Render time against trace time, for a small, a medium and a large model.

    python bench/render_bench.py              # small, medium, large (DenseNet121), one run each
    python bench/render_bench.py --runs 3     # medians of 3 runs
    python bench/render_bench.py --quick      # small and medium only

Each model is inspected in a fresh process (gradflow's own pipeline, as the
CLI runs it); then the default picture (flow view, collapsed automatically
when big) is built and laid out by Graphviz's ``dot``, and for the large model
also one ``--focus`` picture. Reported: TensorFlow's tracing time (the
report's ``trace_s``), the time to build the DOT graph, the time ``dot`` takes
to lay it out as SVG, and render/trace. With ``--runs N`` each model gets N
fresh processes and every time is the median of them.

``bench/bench.py`` (``make bench``) calls :func:`measure` and writes the same
table into docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODELS = [
    ("small", "examples/stop_gradient.py", None),
    ("medium", "bench/models/medium_cnn.py", None),
    ("large", "examples/densenet.py", "conv5_block16_2_conv/kernel"),
]
TIME_KEYS = ("trace_s", "build_s", "dot_s")

CHILD = r"""
import json, os, sys, time
import gradflow
from gradflow.render.dot import build_drawing
from gradflow.render.files import drawing_svg
path, focus = sys.argv[1], sys.argv[2] or None
report = gradflow.inspect_file(path)
rows = []
for label, options in [("default", {})] + ([("focus", {"focus": focus})] if focus else []):
    t0 = time.perf_counter()
    drawing = build_drawing(report, **options)
    t1 = time.perf_counter()
    svg = drawing_svg(drawing, timeout=600)
    t2 = time.perf_counter()
    rows.append({"picture": label, "graph_nodes": report.flow.G.number_of_nodes(), "drawn": drawing.nodes,
                 "depth": drawing.depth, "trace_s": report.timings["trace_s"], "build_s": t1 - t0,
                 "dot_s": t2 - t1, "svg_bytes": len(svg)})
print("BENCH_JSON:" + json.dumps(rows))
"""


def run(name: str, path: str, focus: str | None) -> list[dict]:
    """One fresh process: inspect ``path``, then build and lay out its pictures once."""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["PYTHONPATH"] = str(REPO / "src") + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run([sys.executable, "-c", CHILD, path, focus or ""], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON:")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"bench: {name} ({path}) failed:\n{proc.stderr[-3000:]}")
    rows = json.loads(line[len("BENCH_JSON:"):])
    for row in rows:
        row.update(model=name, file=path)
    return rows


def measure(runs: int = 1, quick: bool = False, log=None) -> list[dict]:
    """Rows (model, picture, ops, drawn, depth, times): each time the median of ``runs`` fresh processes."""
    rows = []
    for name, path, focus in MODELS:
        if quick and name == "large":
            continue
        samples = [run(name, path, focus) for _ in range(runs)]
        for i, first in enumerate(samples[0]):
            row = dict(first, runs=runs)
            for key in TIME_KEYS:
                row[key] = statistics.median(s[i][key] for s in samples)
            row["render_s"] = statistics.median(s[i]["build_s"] + s[i]["dot_s"] for s in samples)
            row["render_over_trace"] = row["render_s"] / row["trace_s"]
            rows.append(row)
            if log:
                log(f"  {name} {row['picture']}: {row['drawn']} drawn of {row['graph_nodes']} ops, "
                    f"build {row['build_s']:.2f} s, dot {row['dot_s']:.2f} s, render/trace {row['render_over_trace']:.2f}")
    return rows


def table(rows: list[dict]) -> str:
    header = f"{'model':<7} {'picture':<8} {'ops':>6} {'drawn':>6} {'depth':>5} {'trace s':>8} " \
             f"{'build s':>8} {'dot s':>7} {'render/trace':>12}"
    lines = [header, "-" * len(header)]
    for r in rows:
        depth = "-" if r["depth"] is None else str(r["depth"])
        lines.append(f"{r['model']:<7} {r['picture']:<8} {r['graph_nodes']:>6} {r['drawn']:>6} {depth:>5} "
                     f"{r['trace_s']:>8.2f} {r['build_s']:>8.2f} {r['dot_s']:>7.2f} {r['render_over_trace']:>12.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the large model")
    parser.add_argument("--runs", type=int, default=1, help="fresh processes per model (median; default 1)")
    parser.add_argument("--json", metavar="OUT", help="also write the rows as JSON")
    args = parser.parse_args(argv)
    rows = measure(args.runs, args.quick)
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
