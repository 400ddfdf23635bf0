"""Regenerate the pictures that README.md and docs/ show (``make docs``), and docs/cli.md's
``--help`` blocks (scripts/make_cli_docs.py).

Each picture is drawn by the CLI exactly as a user would draw it, one fresh
process per model file (a TF1 file switches TensorFlow to graph mode), from
the repository root so that source paths read ``examples/...``. The outputs
are deterministic: rerunning on the same machine changes no byte, so the
committed SVGs only change in a diff when the drawing does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"

# (output, model file, extra CLI arguments, what it shows)
PICTURES = [
    ("stop_gradient.svg", "examples/stop_gradient.py", [],
     "the canonical example (TF2): w1 learns, a StopGradient shields w2 and w3"),
    ("stop_gradient_tf1.svg", "examples/stop_gradient_tf1.py", [],
     "the same model in the classic TF1 style (placeholders, tf.get_variable)"),
    ("mistakes_argmax.svg", "examples/mistakes_argmax.py", [],
     "a classic mistake: a loss built from tf.argmax"),
    ("stop_gradient_full.svg", "examples/stop_gradient.py", ["--view", "full"],
     "the canonical example, every op drawn (--view full)"),
    ("densenet.svg", "examples/densenet.py", [],
     "DenseNet121 (keras.applications, weights=None), collapsed automatically"),
    ("densenet_focus.svg", "examples/densenet.py", ["--focus", "conv5_block16_2_conv/kernel"],
     "one DenseNet121 kernel's paths to the loss, its own layers expanded (--focus)"),
]


# `gradflow train` pictures: (output, model file, arguments with {out} for the output, what it shows)
TRAIN_PICTURES = [
    ("train_stop_gradient.svg", "examples/stop_gradient.py", ["--steps", "200", "--plot", "{out}"],
     "training the canonical example: w1 converges onto w2 * w3, w2 and w3 stay flat"),
    ("train_stop_gradient_tf1.svg", "examples/stop_gradient_tf1.py", ["--steps", "200", "--plot", "{out}"],
     "the same in TF1 style, running the file's own train_op"),
    ("train_layers_unused_head.svg", "examples/unused_head.py", ["--steps", "50", "--plot-layers", "{out}"],
     "gradient flow by layer: the unused head gets no gradient"),
]


def draw(out: str, model: str, extra: list[str]) -> tuple[str, float, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["PYTHONHASHSEED"] = "0"
    src = str(REPO / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    start = time.perf_counter()
    if "{out}" in extra:  # a `gradflow train` picture
        args = ["train", model, *(str(DOCS / out) if a == "{out}" else a for a in extra)]
    else:
        args = ["inspect", model, "--svg", str(DOCS / out), *extra]
    proc = subprocess.run(
        [sys.executable, "-m", "gradflow", *args, "--format", "json"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"make docs: drawing {out} from {model} failed (exit {proc.returncode}):\n"
                         f"{proc.stderr[-3000:]}")
    return out, time.perf_counter() - start, proc.stderr


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    # docs/cli.md's --help blocks first: no TensorFlow, a fraction of a second.
    import make_cli_docs  # scripts/ is sys.path[0]

    if make_cli_docs.main([]) != 0:
        return 1
    pictures = PICTURES + TRAIN_PICTURES
    missing = [model for _, model, _, _ in pictures if not (REPO / model).exists()]
    if missing:
        print(f"make docs: missing model files: {', '.join(missing)}", file=sys.stderr)
        return 2
    jobs = min(len(pictures), max(1, (os.cpu_count() or 2) // 2))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda p: draw(*p[:3]), pictures))
    for (out, seconds, _), (_, model, extra, what) in zip(results, pictures):
        print(f"docs/{out:<24} {seconds:6.1f} s  {model} {' '.join(extra)}  ({what})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
