"""gradflow's cost against plain TensorFlow; writes docs/performance.md.

    python bench/bench.py               # the whole bench (8 to 14 minutes on 2 cores, by the load)
    python bench/bench.py --quick       # small models, depths 8 and 16, 2 runs: a smoke test
    python bench/bench.py --runs 5 --out docs/performance.md
    python bench/bench.py --only end-to-end --model DenseNet --runs 5   # that section of docs/performance.md alone

Every measurement runs in a fresh process and is repeated; medians are reported.

1. End to end: ``gradflow inspect FILE --format json`` against a plain TensorFlow
   script doing what any user would do to get the same gradients: import the
   model file, then one ``tf.function`` that runs the loss under a
   ``GradientTape`` and calls ``tape.gradient`` (load + trace + autodiff);
   and ``gradflow inspect FILE --static --format json``. The three are
   interleaved, in an order rotating from round to round; the ratios are the
   medians of the per-round ratios.
2. gradflow's own analysis (``timings.analysis_s``) as a fraction of the
   autodiff it checks against (``timings.autodiff_s``).
3. Scaling: synthetic deep MLPs and Transformer-encoder stacks (depth
   8/16/32/64): analysis time and peak memory against the number of ops, with
   the fitted exponents of ``time ~ ops^k`` and ``memory ~ ops^k``. Memory is
   measured twice in each child: the peak RSS growth of the whole inspect above
   the RSS after the load (TensorFlow imported, the model built), and, in a
   second, untimed pass with ``tracemalloc``, the peak of the Python heap
   during gradflow's analysis alone.
4. Rendering: ``bench/render_bench.py``'s pictures (small, medium, DenseNet121
   default and ``--focus``) and the scaling series' default pictures: drawn
   nodes, DOT build time, Graphviz ``dot`` layout time, render / trace.
5. Start-up: ``gradflow --help`` against ``python -c "import tensorflow"``.

The "Profiling: before and after" section is hand-written (``PROFILING`` below)
and kept as it is by each run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODELS = [
    ("small (examples/stop_gradient.py)", "examples/stop_gradient.py"),
    ("ResNet50, 32x32, weights=None", "bench/models/resnet50.py"),
    ("DenseNet121, 32x32, weights=None", "examples/densenet.py"),
]
DEPTHS = (8, 16, 32, 64)

# The plain-TensorFlow baseline: load the file, trace one tf.function, tape.gradient.
PLAIN_TF = r"""
import importlib.util, sys, time
import tensorflow as tf
import keras
path = sys.argv[1]
spec = importlib.util.spec_from_file_location("model_under_bench", path)
mod = importlib.util.module_from_spec(spec)
sys.path.insert(0, str(__import__("pathlib").Path(path).resolve().parent))
spec.loader.exec_module(mod)
inputs = getattr(mod, "example_inputs", ())
inputs = inputs if isinstance(inputs, tuple) else (inputs,)
model = getattr(mod, "model", None)
if getattr(mod, "loss", None) is None and isinstance(model, keras.Model):
    def loss_fn(x, y):
        return model.compute_loss(x=x, y=y, y_pred=model(x, training=True))
else:
    loss_fn = mod.loss

@tf.function
def step(*args):
    with tf.GradientTape() as tape:
        loss = loss_fn(*args)
    return loss, tape.gradient(loss, tape.watched_variables())

loss, grads = step(*inputs)
print("grads:", sum(g is not None for g in grads), "of", len(grads))
"""

# The scaling child: gradflow in-process. Pass 1 is a plain inspect (its timings, the op count,
# the peak RSS growth), then the default picture is drawn; pass 2 inspects the same file again,
# untimed, with tracemalloc on during gradflow's analysis only.
GRADFLOW_CHILD = r"""
import json, sys, time, tracemalloc
t0 = time.perf_counter()
import gradflow
import gradflow.api, gradflow.autodiff, gradflow.tracing
from gradflow.render.dot import build_drawing
from gradflow.render.files import drawing_svg


def status_kib(key):
    try:
        with open("/proc/self/status") as f:
            return next(int(ln.split()[1]) for ln in f if ln.startswith(key + ":"))
    except (OSError, StopIteration):
        return None


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # Linux: VmHWM, the peak RSS, := the current RSS
        return True
    except OSError:
        return False


out = {"rss_base_mib": None, "rss_growth_mib": None}
run_target, trace, compute_gradients = gradflow.api.run_target, gradflow.tracing.trace, gradflow.autodiff.compute_gradients


# Pass 1: run_target is what inspect_file calls after the load (TensorFlow imported, the model
# file run, its variables built): the peak RSS from there to the report (trace + analysis +
# autodiff) above the RSS at that point.
def run_target_rss(target, **kw):
    can_reset = reset_peak_rss()
    base = status_kib("VmRSS")
    report = run_target(target, **kw)
    peak = status_kib("VmHWM")
    if can_reset and base is not None and peak is not None:
        out["rss_base_mib"], out["rss_growth_mib"] = base / 1024, (peak - base) / 1024
    return report


grads = {}


def keep_gradients(tr):
    grads["result"] = compute_gradients(tr)
    return grads["result"]


gradflow.api.run_target, gradflow.autodiff.compute_gradients = run_target_rss, keep_gradients
report = gradflow.inspect_file(sys.argv[1])
out.update(total_s=time.perf_counter() - t0, ops=report.flow.G.number_of_nodes(),
           variables=len(report.variables), timings=report.timings)

# The default picture, as `gradflow inspect --svg` draws it (collapsed automatically when big).
t1 = time.perf_counter()
drawing = build_drawing(report)
t2 = time.perf_counter()
drawing_svg(drawing, timeout=600)
out.update(drawn=drawing.nodes, build_s=t2 - t1, dot_s=time.perf_counter() - t2)


# Pass 2: tracemalloc starts once the trace is done and stops when the report is made;
# TensorFlow's autodiff is replaced by pass 1's result (same variable names), so what
# tracemalloc sees is the Python heap of gradflow's analysis alone.
def trace_then_track(target):
    tr = trace(target)
    tracemalloc.start()
    return tr


def run_target_tracked(target, **kw):
    report = run_target(target, **kw)
    out["analysis_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2 ** 20
    tracemalloc.stop()
    return report


gradflow.tracing.trace, gradflow.autodiff.compute_gradients = trace_then_track, lambda tr: grads["result"]
gradflow.api.run_target = run_target_tracked
again = gradflow.inspect_file(sys.argv[1])
if [v.status for v in again.variables] != [v.status for v in report.variables] or again.mismatches:
    raise SystemExit("bench: the tracemalloc pass disagrees with the timed one")
print("BENCH_JSON:" + json.dumps(out))
"""

MLP = '''"""Synthetic deep MLP for the scaling bench: depth {depth}."""
import tensorflow as tf

depth = {depth}
x = tf.random.stateless_normal([4, 16], seed=[1, 0])
ws = [tf.Variable(tf.random.stateless_normal([16, 16], seed=[i, 1]) * 0.3, name=f"w{{i}}") for i in range(depth)]
bs = [tf.Variable(tf.zeros([16]), name=f"b{{i}}") for i in range(depth)]

@tf.function
def loss(x):
    h = x
    for w, b in zip(ws, bs):
        h = tf.tanh(h @ w + b)
    return tf.reduce_mean(tf.square(h))

example_inputs = (x,)
'''

TRANSFORMER = '''"""Synthetic Transformer-encoder stack for the scaling bench: depth {depth}, d_model 16, 2 heads."""
import math

import tensorflow as tf

depth, batch, seq, d_model, heads, d_ff = {depth}, 2, 8, 16, 2, 32
d_head = d_model // heads
x = tf.random.stateless_normal([batch, seq, d_model], seed=[1, 0])


def _weight(shape, layer, k, name):
    return tf.Variable(tf.random.stateless_normal(shape, seed=[layer, k]) * 0.2, name=f"layer{{layer}}_{{name}}")


layers = [{{
    "wq": _weight([d_model, d_model], i, 1, "wq"), "wk": _weight([d_model, d_model], i, 2, "wk"),
    "wv": _weight([d_model, d_model], i, 3, "wv"), "wo": _weight([d_model, d_model], i, 4, "wo"),
    "w1": _weight([d_model, d_ff], i, 5, "w1"), "b1": tf.Variable(tf.zeros([d_ff]), name=f"layer{{i}}_b1"),
    "w2": _weight([d_ff, d_model], i, 6, "w2"), "b2": tf.Variable(tf.zeros([d_model]), name=f"layer{{i}}_b2"),
    "g1": tf.Variable(tf.ones([d_model]), name=f"layer{{i}}_ln1_gamma"),
    "c1": tf.Variable(tf.zeros([d_model]), name=f"layer{{i}}_ln1_beta"),
    "g2": tf.Variable(tf.ones([d_model]), name=f"layer{{i}}_ln2_gamma"),
    "c2": tf.Variable(tf.zeros([d_model]), name=f"layer{{i}}_ln2_beta"),
}} for i in range(depth)]


def _layer_norm(h, gamma, beta):
    mean, var = tf.nn.moments(h, axes=[-1], keepdims=True)
    return (h - mean) * tf.math.rsqrt(var + 1e-5) * gamma + beta


def _heads(h):  # [batch, seq, d_model] -> [batch, heads, seq, d_head]
    return tf.transpose(tf.reshape(h, [batch, seq, heads, d_head]), [0, 2, 1, 3])


@tf.function
def loss(x):
    h = x
    for i, p in enumerate(layers):
        with tf.name_scope(f"layer{{i}}"):
            q, k, v = _heads(h @ p["wq"]), _heads(h @ p["wk"]), _heads(h @ p["wv"])
            attn = tf.nn.softmax(tf.matmul(q, k, transpose_b=True) / math.sqrt(d_head))
            ctx = tf.reshape(tf.transpose(attn @ v, [0, 2, 1, 3]), [batch, seq, d_model])
            h = _layer_norm(h + ctx @ p["wo"], p["g1"], p["c1"])
            h = _layer_norm(h + tf.nn.relu(h @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"], p["g2"], p["c2"])
    return tf.reduce_mean(tf.square(h))


example_inputs = (x,)
'''

SERIES = [
    ("MLP", MLP, "`tanh(h @ w + b)` layers of width 16 in one `tf.function` (2 variables a layer)"),
    ("Transformer", TRANSFORMER,
     "post-norm encoder layers written with plain TensorFlow ops in one `tf.function`: d_model 16, "
     "2 heads, feed-forward 32, batch 2 x 8 tokens; Q/K/V/O projections, softmax attention, two "
     "layer norms, a ReLU feed-forward, one `tf.name_scope` a layer (12 variables a layer)"),
]

# Hand-written; kept by every run (the numbers in the tables above are regenerated, these are history).
PROFILING = """## Profiling: before and after

gradflow's analysis time on DenseNet121 (32x32, `weights=None`, 5,954 ops), profiled with cProfile:

- **First version: about 400 s.**
- **End of the first optimisation session: 2.26 s** (analysis / autodiff 0.32), by plain-adjacency
  searches, the shields from one post-dominator tree, and the blockers by one bitset fixpoint.
- **Second session: about 0.5 s or less** (analysis / autodiff about 0.06 or less; the end-to-end
  table above has the current value), by:
  - a one-sweep topological blocker fixpoint instead of a worklist (444 ms -> 50 ms);
  - reading ops' source lines lazily, only for the ops a report names (it was about 0.45 s of CPU
    on the 5,954 ops);
  - one post-dominator tree shared by the verdicts and the StopGradient inventory;
  - raw networkx adjacency dicts in path counting and the searches;
  - a per-dtype memo of TensorFlow's `IsTrainable` check (0.5 s: a `typing.Protocol` isinstance
    per edge);
  - `gc.freeze()` of the traced model during the analysis: full collections triggered by the
    analysis' allocations walked the whole TensorFlow object graph (about 0.35 s).

### The static mode (`inspect --static`), first measurements

DenseNet121 (32x32, `weights=None`), `bench.end_to_end` alone, plain TensorFlow, the full mode
and the static mode interleaved in one run, each run a fresh process, medians. Both runs were
made on a machine shared with other jobs (load average 8 to 13 on 2 cores), which inflates
every time (the plain script took 71 to 78 s instead of about 25 s on an idle machine) and
TensorFlow's autodiff most; the end-to-end table above, from `make bench`, has the current
numbers.

| run | plain TF (s) | full (s) | full / plain | static (s) | static / plain |
|---|---:|---:|---:|---:|---:|
| 2 runs, before skipping the interpreter's teardown | 77.87 | 116.77 | 1.50x | 54.26 | 0.70x |
| 3 runs, `os._exit` once the report is written | 70.92 | 94.79 | 1.34x | 44.29 | **0.62x** |

What the static mode still pays (its own stage timings on that machine): importing TensorFlow
and gradflow (networkx about 0.8 s of it), running the model file (Keras builds DenseNet121:
load 5 to 9 s), tracing (7 to 14 s) and the analysis (1 to 2 s). The plain script pays the
same import, load and trace, plus the gradient; the goal of 0.5x needs the trace and the
imports cheaper still, or an idle machine to show it.

### Third session: what gradflow pays that the plain script does not

DenseNet121, static mode, stage by stage, each process timed from the inside, the code before
and after this session one after the other (load average 4.2 to 4.7 on 2 cores). On this
shared machine the wall seconds of a stage no one changed (the trace) doubled from one process
to the next, so the CPU seconds of the whole process are the steadier measure; the full
collections (`gc.callbacks`) are what was removed. A plain script run just after: import
TensorFlow and Keras 6.57, run the model file 3.52, trace forward and gradient 7.12, run 7.86.

| stage (static mode) | before (s) | after (s) | what changed |
|---|---:|---:|---|
| import gradflow (networkx, rich) | 0.81 | 0.63 | nothing |
| import TensorFlow | 18.33, 1.99 of it full collections | 9.01, none | the cyclic collector is off while TensorFlow is imported, and what it built is then set aside (`gc.freeze`): 6 full collections walked TensorFlow's modules |
| run the model file | 7.03, 0.55 of it a full collection | 3.84, none | the model set aside after the load; each variable's creating line by a frame walk instead of `traceback.extract_stack`, which read every frame's source line (0.8 s for 610 variables under cProfile) |
| trace (forward only) | 10.65 | 5.18 | nothing: TensorFlow's own work, as in the plain script (the load's noise) |
| analysis | 1.79 | 0.83 | nothing (already one pass each; decisive cuts only for blocked variables): the load's noise |
| JSON report | 0.96, then a 0.67 s full collection | about 0.7, no collection | the full collection that unfreezing the trace after the analysis caused is gone; one encoding for `--json` and `--format json` together; no report dict for the baseline check when there is no `--baseline`. (A hand-written encoder giving `json.dumps`'s bytes in 0.19 s instead of 0.48 s was tried and left out: the standard library stays.) |
| whole process, wall | 40.69 | 20.10 | |
| whole process, CPU | 10.58 | 8.48 | |

The full mode pays the same, plus TensorFlow's autodiff through the traced function (the
forward function with its intermediates, then the backward function), on every float variable
the report lists. Other ways of taking the same gradients, in one process each (seconds from
the end of the forward trace, load average 2 to 8):

| how the gradients are taken | variables watched | wall (s) | CPU (s) |
|---|---:|---:|---:|
| gradflow: the traced concrete function called under a tape | all 606 float variables | 11.2, 12.4, 13.2, 13.5 | 11.1 to 14.6 |
| the same | the 364 trainable ones | 9.9, 13.4, 16.4 | 9.9 to 15.0 |
| the plain script's way: one `tf.function` tracing the forward again, `tape.gradient` inside | all 606 | 15.2, 16.2 (2.6 to 3.7 of it the forward trace again) | 15.1, 16.2 |
| the same | the 364 trainable ones | 11.1 (2.6 of it the forward trace again) | 11.0 |
| the concrete function called inside an outer `tf.function` | all 606 | 21.3, 23.8 | 15.8, 16.0 |

None is clearly cheaper than what gradflow does: watching the non-trainable variables too
(BatchNormalization's moving statistics) costs nothing measurable, and the plain script's one
function is no cheaper once its second forward trace is counted. On the quieter run below the
full mode still took about 6 s more than the plain script, about 1.3 s of it gradflow's own
stages (its import, the analysis, the JSON) and the rest in the autodiff stage, whose timing
varies by a factor of two between processes on this machine; where exactly it goes is not found.

Before and after in one run (`examples/densenet.py`; each round: plain TensorFlow, the full
and static modes of the code before this session and of this session's, each a fresh process,
order rotating), twice:

| run | load at the rounds' starts | | plain TF | full before | full after | static before | static after |
|---|---|---|---:|---:|---:|---:|---:|
| 1 | 3.2 to 3.7 | median (s) | 31.68 | 36.05 | 32.65 | 14.09 | 12.60 |
| | | per-round ratios to plain | 1 | 0.90, 1.51, 0.86 | 0.84, 1.15, 1.03 | 0.32, 0.69, 0.45 | 0.38, 0.38, 0.40 |
| 2 | 2.7 to 2.8 | median (s) | 17.96 | 27.00 | 24.33 | 11.15 | 11.09 |
| | | per-round ratios to plain | 1 | 1.77, 1.26, 1.00 | 1.31, 1.45, 1.35 | 0.65, 0.63, 0.62 | 0.71, 0.47, 0.62 |

The ratios depend on the load more than on this session's changes: the plain script spends
most of its time in TensorFlow's multi-threaded execution, which gets both cores on a quiet
machine (18 s) and much less on a busy one (32 s), while gradflow's extra stages (importing,
building the model, tracing, the analysis) are single-threaded Python either way. On the
quieter run the static mode stays at about 0.62x: the plain script's own import, model build
and forward trace (about 4.5 + 2 + 3 s of its 18) are already about half of it, and the
static mode pays all three; 0.5x there needs TensorFlow's import, Keras's model build or the
trace itself to get cheaper than in the user's own script. The full mode's about 1.3x there
is that plus the autodiff above.

### Fourth session: TensorFlow's graph optimizer, tuned for one run

The full mode's extra time was in the autodiff stage, and there in Grappler, TensorFlow's graph
optimizer, which runs when a function is first called. gradflow calls two functions (the forward
function with the intermediates the gradient needs, then the backward function), and Grappler
optimized each for the many runs of a training loop: two rounds of every optimizer, each about
3 s on DenseNet121, against one function of about 5.7 s in the plain script. gradflow now runs
them with one round, and without the optimizers that only make later runs faster: the memory
optimizer, the layout optimizer and the TFG passes (`autodiff.one_run_config`). The optimizers
that rewrite the arithmetic (the arithmetic optimizer, the remapper, constant folding) still run,
so the numeric check sees a training step's values; DenseNet121's gradient norms are
bit-identical, and tests/test_autodiff.py checks a convolutional model's against a `tf.function`
step's.

DenseNet121, in one process each (quiet machine, load about 1):

| stage | before (s) | after (s) |
|---|---:|---:|
| Grappler, forward and backward functions (TensorFlow's own log) | 5.8 | 1.8 |
| gradflow's autodiff stage | 13.4 | 8.9 |
| `inspect --format json`, whole process: full mode / plain TensorFlow (the end-to-end table's median of per-round ratios) | 1.23x | 0.80x |

The static mode changed only by the smaller JSON report (about 0.3 s). Its ratio went from
0.58x in the last session's bench (plain script 19.6 s) to 0.48x and 0.44x in two bench runs of
this one (plain script 24.1 s and 24.8 s): most of that difference is the plain script's own
time, which moves between bench runs. Its margin is small and stays so: the plain script's own TensorFlow
import, Keras build and forward trace are about 0.45 of its time, and the static mode pays all
three; gradflow's own part (its imports, the analysis, the JSON) is about 0.7 s. ResNet50's
static ratio (0.56x) is higher because its plain script spends less of its time in the autodiff.

Also this session:
- A learning variable whose paths only a library's cuts reach (BatchNorm's moments) lists no
  `blockers` (as docs/json.md says): DenseNet121's JSON report 10.7 MB -> 0.4 MB, about 0.3 s
  of encoding.
- The site's workers set TensorFlow and gradflow aside from the cyclic collector after importing
  them (`gc.freeze`): each model's collections had walked them again, 0.4 s of a small model's
  0.6 s page and 6 s of DenseNet121's 20 s (measured in a worker: 0.25 s and 15 s after).
"""


def _env() -> dict:
    env = dict(os.environ)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["PYTHONPATH"] = str(REPO / "src") + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return elapsed, proc.stdout


def _gradflow_cmd() -> list[str]:
    script = Path(sys.executable).with_name("gradflow")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gradflow"]


def machine() -> dict:
    load = os.getloadavg()[0]
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")))
        mem = f"{kb / 1024 ** 2:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    tf_version = subprocess.run([sys.executable, "-c", "import tensorflow as tf, keras; print(tf.__version__, keras.__version__)"],
                                env=_env(), capture_output=True, text=True).stdout.split()
    try:
        dot = subprocess.run(["dot", "-V"], capture_output=True, text=True).stderr.split()
        graphviz = dot[dot.index("version") + 1] if "version" in dot else "?"
    except OSError:
        graphviz = "?"
    return {"os": platform.platform(), "cpu": cpu, "cores": os.cpu_count(), "memory": mem,
            "python": platform.python_version(),
            "tensorflow": tf_version[0] if tf_version else "?", "keras": tf_version[1] if len(tf_version) > 1 else "?",
            "graphviz": graphviz, "load_start": load}


def end_to_end(models, runs: int) -> list[dict]:
    """Plain TensorFlow, the full mode and the static mode of each model, interleaved.

    Each round runs the three once, each in a fresh process, in an order that
    rotates from round to round (a load that drifts during the bench weighs on
    all three alike); the table takes each one's median, and the ratios are
    medians over the rounds of the ratios within one round.
    """
    rows = []
    for label, path in models:
        gf, plain, analysis, autodiff, trace, static, load = [], [], [], [], [], [], []
        full_ratios, static_ratios = [], []
        for i in range(runs):
            load.append(os.getloadavg()[0])
            times = {}
            for kind in _rotated(("plain", "full", "static"), i):
                if kind == "plain":
                    times[kind], _ = _timed([sys.executable, "-c", PLAIN_TF, path])
                elif kind == "static":  # no autodiff, no numeric check
                    times[kind], out = _timed(_gradflow_cmd() + ["inspect", path, "--static", "--format", "json"])
                    assert json.loads(out)["mode"] == "static"
                else:
                    times[kind], out = _timed(_gradflow_cmd() + ["inspect", path, "--format", "json"])
                    timings = json.loads(out)["timings"]
                    analysis.append(timings["analysis_s"])
                    autodiff.append(timings["autodiff_s"])
                    trace.append(timings["trace_s"])
            plain.append(times["plain"])
            gf.append(times["full"])
            static.append(times["static"])
            full_ratios.append(times["full"] / times["plain"])
            static_ratios.append(times["static"] / times["plain"])
        row = {"model": label, "file": path, "runs": runs,
               "gradflow_s": statistics.median(gf), "plain_tf_s": statistics.median(plain),
               "trace_s": statistics.median(trace), "analysis_s": statistics.median(analysis),
               "autodiff_s": statistics.median(autodiff), "static_s": statistics.median(static),
               "ratio": statistics.median(full_ratios), "static_ratio": statistics.median(static_ratios),
               "load": statistics.median(load), "samples": {"plain": plain, "full": gf, "static": static}}
        row["analysis_over_autodiff"] = row["analysis_s"] / row["autodiff_s"]
        print(f"  {label}: gradflow {row['gradflow_s']:.2f} s, plain TF {row['plain_tf_s']:.2f} s, "
              f"x{row['ratio']:.2f}; static {row['static_s']:.2f} s, x{row['static_ratio']:.2f}; "
              f"analysis/autodiff {row['analysis_over_autodiff']:.2f}; load average {row['load']:.1f}",
              file=sys.stderr)
        rows.append(row)
    return rows


def _rotated(kinds: tuple, i: int) -> tuple:
    return kinds[i % len(kinds):] + kinds[:i % len(kinds)]


def fit_exponent(xs: list[float], ys: list[float]) -> float:
    lx, ly = [math.log(x) for x in xs], [math.log(max(y, 1e-6)) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def scaling(name: str, template: str, depths, runs: int) -> dict:
    """One series: each depth `runs` fresh processes of GRADFLOW_CHILD; medians and fitted exponents."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="gradflow-bench-") as tmp:
        for depth in depths:
            path = Path(tmp) / f"{name.lower()}_{depth}.py"
            path.write_text(template.format(depth=depth))
            samples = []
            for _ in range(runs):
                _, out = _timed([sys.executable, "-c", GRADFLOW_CHILD, str(path)])
                line = next(ln for ln in out.splitlines() if ln.startswith("BENCH_JSON:"))
                samples.append(json.loads(line[len("BENCH_JSON:"):]))
            row = {"depth": depth, "ops": samples[0]["ops"], "variables": samples[0]["variables"],
                   "drawn": samples[0]["drawn"]}
            for key in ("analysis_s", "autodiff_s", "trace_s"):
                row[key] = statistics.median(s["timings"][key] for s in samples)
            for key in ("total_s", "build_s", "dot_s", "rss_base_mib", "rss_growth_mib", "analysis_peak_mib"):
                row[key] = _median(s[key] for s in samples)
            row["inspect_s"] = row.pop("total_s")
            row["render_s"] = statistics.median(s["build_s"] + s["dot_s"] for s in samples)
            row["analysis_over_autodiff"] = row["analysis_s"] / row["autodiff_s"]
            rss = "?" if row["rss_growth_mib"] is None else f"{row['rss_growth_mib']:.0f} MiB"
            print(f"  {name} depth {depth}: {row['ops']} ops, analysis {row['analysis_s']:.3f} s "
                  f"(autodiff {row['autodiff_s']:.2f} s), peak RSS +{rss}, analysis heap peak "
                  f"{row['analysis_peak_mib']:.1f} MiB; picture {row['drawn']} nodes, {row['render_s']:.2f} s",
                  file=sys.stderr)
            rows.append(row)
    ops = [r["ops"] for r in rows]
    fit = {key: fit_exponent(ops, [r[key] for r in rows])
           for key in ("analysis_s", "inspect_s", "autodiff_s", "analysis_peak_mib")}
    fit["rss_growth_mib"] = (fit_exponent(ops, [r["rss_growth_mib"] for r in rows])
                             if all(r["rss_growth_mib"] for r in rows) else None)
    drawn = [r["drawn"] for r in rows]
    fit["render_vs_drawn"] = (fit_exponent(drawn, [r["render_s"] for r in rows])
                              if len(set(drawn)) > 1 else None)
    return {"series": name, "rows": rows, "exponents": fit}


def rendering(runs: int, quick: bool) -> list[dict]:
    """bench/render_bench.py's measurement: each picture's times the median of `runs` fresh processes."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import render_bench

    return render_bench.measure(runs, quick, log=lambda msg: print(msg, file=sys.stderr))


def startup(runs: int) -> dict:
    help_t = [_timed(_gradflow_cmd() + ["--help"])[0] for _ in range(runs)]
    tf_t = [_timed([sys.executable, "-c", "import tensorflow"])[0] for _ in range(runs)]
    res = {"gradflow_help_s": statistics.median(help_t), "import_tf_s": statistics.median(tf_t)}
    res["ratio"] = res["gradflow_help_s"] / res["import_tf_s"]
    print(f"  start-up: gradflow --help {res['gradflow_help_s']:.3f} s, import tensorflow "
          f"{res['import_tf_s']:.3f} s", file=sys.stderr)
    return res


ISSUE_DOCS_BUILD_S = 340.0  # `gradflow docs examples/ -j 2` when the goal was set (issue 16)


def docs_build(runs: int = 1) -> dict:
    """``gradflow docs examples/ -j 2`` (persistent workers) against the build it replaced.

    The baseline is what ``docs`` did before its workers lived across models: a
    fresh Python process per model (each importing TensorFlow), two at a time,
    here ``gradflow inspect FILE --html OUT`` per model file. Both write the same
    pages (the site's carry a back link); the site build's bytes are checked
    against a fresh-process build by tests/test_site.py's determinism test.
    """
    from concurrent.futures import ThreadPoolExecutor

    sys.path.insert(0, str(REPO / "src"))
    from gradflow.site import find_models

    models = find_models([str(REPO / "examples")])
    new_t, old_t = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            new_t.append(_timed(_gradflow_cmd() + ["docs", str(REPO / "examples"), "-j", "2", "-o", tmp])[0])
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(lambda m: _timed(_gradflow_cmd() + ["inspect", m, "--html",
                                                                  os.path.join(tmp, Path(m).stem + ".html")]),
                              models))
            old_t.append(time.perf_counter() - start)
    res = {"models": len(models), "docs_s": statistics.median(new_t), "fresh_process_s": statistics.median(old_t)}
    res["ratio"] = res["docs_s"] / res["fresh_process_s"]
    print(f"  docs build: {res['docs_s']:.1f} s, a fresh process per model {res['fresh_process_s']:.1f} s",
          file=sys.stderr)
    return res


def docs_markdown(d: dict) -> str:
    return "\n".join([
        "## Building a site", "",
        f"`gradflow docs examples/ -j 2` ({d['models']} model files) with workers that live across models, "
        "against a fresh process per model (the build before them; each process imports TensorFlow).", "",
        "| build | wall time (s) |", "|---|---:|",
        f"| fresh process per model, 2 at a time | {d['fresh_process_s']:.1f} |",
        f"| `gradflow docs -j 2` (persistent workers) | {d['docs_s']:.1f} |",
        f"| ratio | **{d['ratio']:.2f}** |", "",
        "The goal was at most 0.5 times the build of the day the goal was set (5 min 40 s, 340 s, a "
        f"fresh process per model): **{d['docs_s'] / ISSUE_DOCS_BUILD_S:.2f}** of it. The fresh-process build "
        "above runs today's gradflow, so it is faster than that build was; the ratio against it is the "
        "stricter measure. DenseNet121 sets the pace: one worker spends most of the build on it while the "
        "other does the fourteen small models. The pages are byte-identical to a fresh-process build.",
        "", ""])


def _k(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def _mib(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def end_to_end_markdown(e2e: list[dict]) -> list[str]:
    """The "End to end" section (its lines), also rewritten alone by ``--only end-to-end``."""
    out = ["## End to end: `gradflow inspect` against plain TensorFlow", "",
           "The plain script imports the model file and runs one `tf.function` with the loss under a "
           "`GradientTape` and `tape.gradient` over the watched variables: load + trace + autodiff, "
           "what a user would run to get the gradients. `gradflow inspect FILE --format json` does that "
           "and the graph analysis and the numeric check on top. `gradflow inspect FILE --static --format json` "
           "(the static mode) skips TensorFlow's autodiff and the numeric check: the verdicts come from the "
           "graph and TensorFlow's gradient registry. Goals: full mode at most 1.10x plain TensorFlow, "
           "static mode at most 0.5x on DenseNet121.", "",
           "The three run in the same bench run, interleaved: each round runs each once, in a fresh process, "
           "in an order that rotates from round to round. The seconds are medians over the rounds; each "
           "ratio is the median over the rounds of the ratio within a round, so that a load that changes "
           "during the bench weighs on both sides of it. Load is the median 1-minute load average at the "
           "start of the rounds (the machine has the cores listed above).", "",
           "| model | runs | load | plain TF (s) | gradflow (s) | gradflow / plain | static (s) | static / plain | "
           "trace (s) | autodiff (s) | analysis (s) | analysis / autodiff |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in e2e:
        out.append(f"| {r['model']} | {r['runs']} | {r.get('load', float('nan')):.1f} | {r['plain_tf_s']:.2f} | "
                   f"{r['gradflow_s']:.2f} | **{r['ratio']:.2f}x** | {r['static_s']:.2f} | "
                   f"**{r['static_ratio']:.2f}x** | {r['trace_s']:.2f} | {r['autodiff_s']:.2f} | "
                   f"{r['analysis_s']:.2f} | **{r['analysis_over_autodiff']:.2f}** |")
    out += ["", "`trace`, `autodiff` and `analysis` are gradflow's own stage timings (`timings` in the JSON "
            "report): autodiff is TensorFlow computing the gradients gradflow checks its verdicts against; "
            "analysis is gradflow's graph work (building the analysis graph, path counting, cuts, "
            "verdicts). Analysis / autodiff is gradflow's overhead as a fraction of the autodiff it explains."]
    return out


def replace_end_to_end(text: str, e2e: list[dict]) -> str:
    """``text`` (docs/performance.md) with its "End to end" section replaced by ``e2e``'s."""
    head = "## End to end:"
    start = text.index(head)
    end = text.index("\n## ", start + len(head)) + 1
    return text[:start] + "\n".join(end_to_end_markdown(e2e)) + "\n\n" + text[end:]


def replace_profiling(text: str) -> str:
    """``text`` with its hand-written profiling history replaced by ``PROFILING`` (up to the next section)."""
    head = "## Profiling: before and after"
    if head not in text:
        return text
    start = text.index(head)
    nxt = text.find("\n## ", start + len(head))
    end = len(text) if nxt < 0 else nxt + 1
    return text[:start] + PROFILING + ("\n" if nxt >= 0 else "") + text[end:]


def markdown(m: dict, e2e: list[dict], series: list[dict], render: list[dict], st: dict, runs: int,
             elapsed: float) -> str:
    out = ["# Performance", "",
           "Measured by `make bench` (`bench/bench.py`); every number is the median of several runs, each "
           "in a fresh process. Regenerate on your machine to compare: absolute seconds depend on it, the "
           "ratios much less. Only the last section, the profiling history, is hand-written.", "",
           "## Machine", "",
           f"- CPU: {m['cpu']}, {m['cores']} cores; memory {m['memory']}",
           f"- OS: {m['os']}",
           f"- Python {m['python']}, TensorFlow {m['tensorflow']} (CPU), Keras {m['keras']}, Graphviz {m['graphviz']}",
           f"- runs per measurement: {runs}; bench wall time: {elapsed / 60:.1f} min; load average (1 min) "
           f"{m['load_start']:.2f} at the start, {m['load_end']:.2f} at the end", "",
           ] + end_to_end_markdown(e2e)
    out += ["", "## Scaling: deep MLP and Transformer stacks, time and peak memory against ops", "",
            "Synthetic models at depths " + ", ".join(str(r["depth"]) for r in series[0]["rows"]) +
            "; ops = nodes of gradflow's analysis graph. Each depth runs in fresh processes "
            "(`gradflow.inspect_file` in-process, then the default picture, then an untimed second pass "
            "for the analysis' memory):", ""]
    out += [f"- **{name}**: {desc}." for name, _, desc in SERIES if any(sc["series"] == name for sc in series)]
    for sc in series:
        out += ["", f"### {sc['series']}", "",
                "| depth | ops | variables | trace (s) | autodiff (s) | analysis (s) | analysis / autodiff | "
                "whole inspect in-process (s) | peak RSS growth (MiB) | analysis heap peak (MiB) |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in sc["rows"]:
            out.append(f"| {r['depth']} | {r['ops']} | {r['variables']} | {r['trace_s']:.3f} | {r['autodiff_s']:.3f} | "
                       f"{r['analysis_s']:.3f} | {r['analysis_over_autodiff']:.3f} | {r['inspect_s']:.2f} | "
                       f"{_mib(r['rss_growth_mib'])} | {_mib(r['analysis_peak_mib'])} |")
    base = [r["rss_base_mib"] for sc in series for r in sc["rows"] if r["rss_base_mib"] is not None]
    out += ["", "### Fitted exponents", "",
            "`time ~ ops^k` and `memory ~ ops^k`, least squares on log-log over the depths above "
            "(1 = linear):", "",
            "| series | analysis time | autodiff time (TensorFlow) | whole inspect time | peak RSS growth | "
            "analysis heap peak |",
            "|---|---:|---:|---:|---:|---:|"]
    for sc in series:
        k = sc["exponents"]
        out.append(f"| {sc['series']} | **{_k(k['analysis_s'])}** | {_k(k['autodiff_s'])} | {_k(k['inspect_s'])} | "
                   f"{_k(k['rss_growth_mib'])} | **{_k(k['analysis_peak_mib'])}** |")
    out += ["", "- **Time**: `analysis` and `autodiff` are the report's stage timings; the whole inspect "
            "includes the fixed cost of importing TensorFlow, so its exponent reads low. An exponent below 1 "
            "means a fixed per-call cost still weighs at these sizes; the point is that the analysis does "
            "not grow faster than the graph.",
            "- **Peak RSS growth**: the process's peak resident set size from the end of the load "
            "(TensorFlow imported, the model file run, its variables built"
            + (f"; about {statistics.median(base):.0f} MiB" if base else "") +
            ") until the report is made, minus the RSS at that point: Linux's `VmHWM`, reset there through "
            "`/proc/self/clear_refs`. It covers the trace, gradflow's analysis and TensorFlow's autodiff "
            "together, so it is mostly TensorFlow's memory (the traced graph and the gradient graph); "
            "`-` where `/proc` cannot do it.",
            "- **Analysis heap peak**: gradflow's own memory. A second pass in the same process inspects the "
            "file again with `tracemalloc` on from the end of the trace until the report is made, and "
            "TensorFlow's autodiff replaced by the first pass's result, so the peak is that of the Python "
            "allocations of gradflow's analysis alone (analysis graph, path counts, cuts, verdicts). "
            "TensorFlow's C++ allocations are not in it. The timed pass runs without `tracemalloc`, which "
            "slows allocation down.",
            "", "## Rendering: time against drawn nodes", "",
            "`bench/render_bench.py`'s pictures: each model is inspected in a fresh process, then its default "
            "picture (the flow view, name scopes collapsed automatically to about 300 drawn nodes at most) "
            "and, for DenseNet121, one `--focus` picture are built as a DOT graph (`build_drawing`) and laid "
            "out by Graphviz's `dot` as SVG. Render / trace = (DOT build + `dot` layout) / TensorFlow's "
            "tracing time.", "",
            "| model | picture | ops | drawn nodes | collapse depth | trace (s) | DOT build (s) | `dot` layout (s) "
            "| render / trace |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    names = {"small": "small (examples/stop_gradient.py)", "medium": "medium (MobileNetV2, 32x32)",
             "large": "large (DenseNet121, 32x32)"}
    for r in render:
        picture = "default" if r["picture"] == "default" else "`--focus` one kernel"
        depth = "-" if r["depth"] is None else str(r["depth"])
        out.append(f"| {names.get(r['model'], r['model'])} | {picture} | {r['graph_nodes']} | {r['drawn']} | {depth} | "
                   f"{r['trace_s']:.2f} | {r['build_s']:.3f} | {r['dot_s']:.3f} | **{r['render_over_trace']:.2f}** |")
    out += ["", "The scaling series' default pictures (drawn in the same processes as the scaling tables):", "",
            "| series | depth | ops | drawn nodes | DOT build (s) | `dot` layout (s) | render / trace |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for sc in series:
        for r in sc["rows"]:
            out.append(f"| {sc['series']} | {r['depth']} | {r['ops']} | {r['drawn']} | {r['build_s']:.3f} | "
                       f"{r['dot_s']:.3f} | {r['render_s'] / r['trace_s']:.2f} |")
    mlp = next((sc for sc in series if sc["series"] == "MLP"), None)
    smallest = min(r["dot_s"] for r in render + [r for sc in series for r in sc["rows"]])
    large = next((r for r in render if r["model"] == "large" and r["picture"] == "default"), None)
    out += ["", (f"Fitted `render time ~ drawn^k` over the MLP pictures: **k = {_k(mlp['exponents']['render_vs_drawn'])}**. "
                 if mlp else "") +
            "The MLP has no name scopes, so nothing collapses and its drawing grows with the depth; small "
            f"pictures are dominated by fixed costs (`dot` takes {smallest * 1000:.0f} ms on the smallest), so "
            "k reads low. The Transformer's layers are name scopes, collapsed into one box each once the graph "
            "passes the budget, so its drawing grows by one box a layer. However big the model, the automatic "
            "collapse keeps the picture, and so the layout time, bounded"
            + (f" (DenseNet121's {large['graph_nodes']:,} ops draw as {large['drawn']} nodes)." if large else "."),
            "", "The DOT build walks the whole analysis graph (to collapse it), so its time grows with the ops "
            "even where the drawn nodes hardly do (the Transformer rows); the `dot` layout grows with the drawn "
            "nodes.",
            "", "## Start-up", "",
            "| command | median (s) |", "|---|---:|",
            f"| `gradflow --help` | {st['gradflow_help_s']:.3f} |",
            f"| `python -c \"import tensorflow\"` | {st['import_tf_s']:.3f} |",
            f"| ratio | **{st['ratio']:.3f}** |", "",
            "`gradflow --help` does not import TensorFlow (it is imported inside commands only), nor gradflow's "
            "API or result types (the package loads them on first use). At 6e5c6f8, before that, the ratio "
            "was about 0.07; the aim is 0.02 or less.", "",
            PROFILING]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median; default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="small models, depths 8 and 16, 2 runs: a smoke test")
    parser.add_argument("--out", default=str(REPO / "docs" / "performance.md"), help="the Markdown file to write")
    parser.add_argument("--json", metavar="OUT", help="also write the raw numbers as JSON")
    parser.add_argument("--only", choices=["end-to-end"],
                        help="measure one part and rewrite only its section of --out (which must exist)")
    parser.add_argument("--model", action="append", metavar="SUBSTRING",
                        help="with --only end-to-end: the models whose label contains SUBSTRING (repeatable)")
    args = parser.parse_args(argv)
    if args.only == "end-to-end":
        models = [m for m in MODELS if not args.model or any(k.lower() in m[0].lower() for k in args.model)]
        e2e = end_to_end(models, args.runs)
        out = Path(args.out)
        out.write_text(replace_profiling(replace_end_to_end(out.read_text(), e2e)))
        print("\n".join(end_to_end_markdown(e2e)))
        if args.json:
            Path(args.json).write_text(json.dumps({"end_to_end": e2e}, indent=2) + "\n")
        return 0
    runs = 2 if args.quick else args.runs
    models = MODELS[:1] if args.quick else MODELS
    depths = DEPTHS[:2] if args.quick else DEPTHS
    start = time.perf_counter()
    print("machine...", file=sys.stderr)
    m = machine()
    print("end to end...", file=sys.stderr)
    e2e = end_to_end(models, runs)
    print("scaling...", file=sys.stderr)
    series = [scaling(name, template, depths, runs) for name, template, _ in SERIES]
    print("rendering...", file=sys.stderr)
    render = rendering(runs, args.quick)
    print("start-up...", file=sys.stderr)
    st = startup(max(runs, 5))
    print("docs build...", file=sys.stderr)
    docs = docs_build(1)
    print("watch overhead...", file=sys.stderr)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import watch_bench

    watch_rows = watch_bench.measure(log=lambda msg: print(msg, file=sys.stderr))
    m["load_end"] = os.getloadavg()[0]
    text = markdown(m, e2e, series, render, st, runs, time.perf_counter() - start)
    text = text.replace(PROFILING, docs_markdown(docs) + PROFILING)
    text = text.rstrip("\n") + "\n\n" + watch_bench.markdown(watch_rows)
    Path(args.out).write_text(text)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": m, "end_to_end": e2e, "scaling": series,
                                               "rendering": render, "startup": st, "watch": watch_rows,
                                               "docs_build": docs}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
