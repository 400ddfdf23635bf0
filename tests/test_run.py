"""``gradflow run`` on the corpus in tests/scripts: every site's verdicts equal what TensorFlow returned.

Each script runs in its own process under tests/run_oracle.py, which records
the None / not-None result of the real gradient call beside gradflow's report.
The data comes from a fixture (small synthetic arrays): no script downloads anything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "scripts")
SRC = os.path.join(os.path.dirname(HERE), "src")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> str:
    rng = np.random.default_rng(0)
    path = str(tmp_path_factory.mktemp("data") / "data.npz")
    np.savez(path,
             images=rng.random((16, 8, 8, 1)).astype("float32"),
             features=rng.normal(size=(16, 16)).astype("float32"),
             labels=rng.integers(0, 4, 16),
             states=rng.normal(size=(32, 4)).astype("float32"),
             next_states=rng.normal(size=(32, 4)).astype("float32"),
             rewards=rng.normal(size=32).astype("float32"),
             actions=rng.integers(0, 3, 32))
    return path


def _env() -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("GRADFLOW_TEST_DATA", None)
    return env


def run_with_oracle(tmp_path, script: str, *args: str) -> dict:
    out = tmp_path / "oracle.json"
    proc = subprocess.run([sys.executable, os.path.join(HERE, "run_oracle.py"), str(out),
                           os.path.join(SCRIPTS, script), *args],
                          capture_output=True, text=True, env=_env(), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


def _tf_status_agrees(status: str, is_none: bool) -> bool:
    return (status in ("blocked", "disconnected")) == is_none


def check(result: dict) -> None:
    assert not result["errors"], result["errors"]
    assert result["sites"]
    for site in result["sites"]:
        assert site["tf_none"] is not None, f"TensorFlow's answer for {site['heading']} was not recorded"
        assert len(site["tf_none"]) == len(site["statuses"])
        for name, status, none in zip(site["names"], site["statuses"], site["tf_none"]):
            assert _tf_status_agrees(status, none), (site["heading"], name, status, none)


CORPUS = [
    pytest.param("wgan_gp.py", ("{data}",), 3, id="wgan-gp"),
    pytest.param("simsiam.py", ("{data}",), 1, id="simsiam"),
    pytest.param("dqn.py", ("{data}",), 1, id="dqn"),
    pytest.param("actor_critic.py", ("{data}",), 2, id="actor-critic"),
    pytest.param("tf1_session.py", ("{data}",), 1, id="tf1-session"),
    # published shapes: absl app.run + tf.data + a keras.Model subclass's train_step; Keras 2 (tf_keras)
    # with argparse and sys.exit(main()); an eager loop in main() under if __name__ == "__main__"
    pytest.param("absl_subclass.py", ("--data={data}", "--epochs=3"), 1, id="absl-subclass-tf-data",
                 marks=pytest.mark.slow),
    pytest.param("tf_keras_fit.py", ("--data", "{data}"), 1, id="tf-keras-sys-exit-main"),
    pytest.param("eager_cuts.py", (), 1, id="eager-main"),
    pytest.param("tf_keras_minimize.py", ("{data}",), 1, id="tf-keras-minimize", marks=pytest.mark.slow),
    pytest.param("dcgan.py", ("--data", "{data}", "--epochs", "1"), 2, id="dcgan", marks=pytest.mark.slow),
    pytest.param("vae.py", ("{data}",), 1, id="vae", marks=pytest.mark.slow),
    pytest.param("vqvae.py", ("{data}",), 1, id="vqvae", marks=pytest.mark.slow),
    pytest.param("distill.py", ("{data}",), 1, id="distill", marks=pytest.mark.slow),
]


# Beyond TensorFlow's verdicts: what the first site says of some variables (status, blocker types).
NAMED = {
    "absl_subclass.py": {"classifier/projection/kernel": ("disconnected", []),
                         "classifier/encoder/kernel": ("flows", [])},
    "tf_keras_fit.py": {"gate/kernel": ("blocked", ["StopGradient"]), "hidden/kernel": ("flows", [])},
    "tf_keras_minimize.py": {"temperature": ("blocked", ["StopGradient"])},
    "eager_cuts.py": {"scale": ("blocked", ["Cast"]), "bins": ("blocked", ["ArgMax"]),
                      "unused_head/kernel": ("disconnected", [])},
}
CALLS = {"tf_keras_fit.py": "model.fit train_step", "absl_subclass.py": "tape.gradient",
         "tf_keras_minimize.py": "optimizer.minimize",
         "eager_cuts.py": "tape.gradient"}


@pytest.mark.parametrize("script,args,sites", CORPUS)
def test_corpus_verdicts_equal_tensorflow(tmp_path, data, script, args, sites):
    result = run_with_oracle(tmp_path, script, *(a.format(data=data) for a in args))
    check(result)
    assert len(result["sites"]) == sites
    assert result["stopped"]  # stopped once every site was analysed
    first = result["sites"][0]
    if script in CALLS:
        assert first["site"]["call"] == CALLS[script]
    said = {name: (status, blockers) for name, status, blockers in
            zip(first["names"], first["statuses"], first["blockers"])}
    for name, expected in NAMED.get(script, {}).items():
        assert said[name] == expected, (name, said[name])


def test_blockers_are_named_with_op_and_line(tmp_path, data):
    # eager (a persistent tape), traced inside a train_step and TF1 alike
    ac = run_with_oracle(tmp_path, "actor_critic.py", data)["sites"][0]
    critic = ac["names"].index("critic/kernel")
    assert ac["statuses"][critic] == "blocked" and ac["blockers"][critic] == ["StopGradient"]
    tf1 = run_with_oracle(tmp_path, "tf1_session.py", data)["sites"][0]
    assert tf1["statuses"][tf1["names"].index("scale")] == "blocked"
    assert tf1["site"]["call"] == "optimizer.compute_gradients"


def _gradflow(*args: str, cwd: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gradflow", *args], capture_output=True, text=True,
                          env=_env(), cwd=cwd, timeout=600)


STEP = """\
import tensorflow as tf

w1, w2, w3 = tf.Variable(1.0, name="w1"), tf.Variable(2.0, name="w2"), tf.Variable(3.0, name="w3")
x = tf.constant([1.0, 2.0])


@tf.function
def generator_step(x):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(w1 * x + tf.stop_gradient(w2 * x))
    return tape.gradient(loss, [w1, w2, w3])


for step in range(3):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(w1 * x) + tf.cast(tf.argmax(w3 * x), tf.float32)
    grads = tape.gradient(loss, [w1, w2, w3])
    print("step", step, [g is None for g in grads])
    generator_step(x)
"""


def test_cli_json_text_and_stop(tmp_path):
    (tmp_path / "train.py").write_text(STEP)
    proc = _gradflow("run", "--format", "json", "--html", "all.html", "train.py", cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema"] == "gradflow.run/1" and doc["script"] == "train.py"
    sites = {(s["site"]["line"], s["site"]["call"]): s["report"] for s in doc["sites"]}
    assert set(sites) == {(17, "tape.gradient"), (11, "tape.gradient")}
    eager = {v["name"]: v for v in sites[(17, "tape.gradient")]["variables"]}
    assert [eager[n]["status"] for n in ("w1", "w2", "w3")] == ["flows", "disconnected", "blocked"]
    assert eager["w3"]["blockers"][0]["type"] == "ArgMax"
    assert eager["w3"]["blockers"][0]["location"] == {"file": "train.py", "line": 16}
    traced = {v["name"]: v["status"] for v in sites[(11, "tape.gradient")]["variables"]}
    assert traced == {"w1": "flows", "w2": "blocked", "w3": "disconnected"}
    assert proc.stderr.count("step 0") == 1 and "step 1" not in proc.stderr  # stopped after one step
    assert "tape.gradient at train.py:11 (generator step)" in (tmp_path / "all.html").read_text()

    text = _gradflow("run", "--no-stop", "--fail-on", "blocked", "train.py", cwd=str(tmp_path))
    assert text.returncode == 1
    assert "tape.gradient at train.py:17" in text.stdout
    assert "tape.gradient at train.py:11 (generator step)" in text.stdout
    assert "step 2" in text.stdout  # --no-stop: the script ran to its end


@pytest.mark.parametrize("source,message", [
    (None, "no such script"),
    ("this is not ( python\n", "not a Python script"),
    ("import sys\nsys.exit(3)\n", "exited with code 3 before computing any gradient"),
    ("import os\nos._exit(4)\n", "os._exit(4)"),
    ("print('no training here')\n", "without computing any gradient"),
    ("import time\ntime.sleep(20)\n", "no gradient within 1 s"),
    ("import tensorflow as tf\nv = tf.Variable(1.0)\nwith tf.GradientTape() as t:\n    y = v * v\n"
     "t.gradient(y, [v])\nraise ValueError('boom in the script')\n", "boom in the script"),
])
def test_bad_input_is_a_short_message(tmp_path, source, message):
    if source is not None:
        (tmp_path / "train.py").write_text(source)
    proc = _gradflow("run", "--timeout", "1", "train.py", cwd=str(tmp_path))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "gradflow/" not in proc.stderr.replace("gradflow run", "")  # no gradflow traceback


def test_watch_and_keras_callback():
    import keras
    import tensorflow as tf

    import gradflow

    v = tf.Variable([1.0, 2.0])
    frozen = tf.Variable(3.0)
    with gradflow.watch(show=False) as w:
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(v * v) + tf.stop_gradient(frozen)
        grads = tape.gradient(loss, [v, frozen])
    assert len(w.reports) == 1
    statuses = [x.status.value for x in w.reports[0].report.variables]
    assert statuses == ["flows" if grads[0] is not None else "blocked",
                        "blocked" if grads[1] is None else "flows"]
    # outside the block, nothing is intercepted
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(v * v)
    tape.gradient(loss, [v])
    assert len(w.reports) == 1

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    callback = gradflow.keras.GradflowCallback(every=2, show=False)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 1)).astype("float32")
    model.fit(x, y, batch_size=2, epochs=1, verbose=0, callbacks=[callback])
    assert len(callback.reports) == 1
    report = callback.reports[0].report
    assert report.numeric  # the train step's first run filled the gradient values
    assert {v.status.value for v in report.variables} <= {"flows", "zero"}  # TensorFlow gives every kernel a tensor
    assert sorted(callback.norms) == [0, 2]
    # per layer, named as the model names them (Keras numbers layers per process)
    assert {name.rsplit("/", 1)[-1] for name in callback.norms[0]} == {layer.name for layer in model.layers}
    assert all(np.isfinite(n) and n >= 0 for n in callback.norms[0].values())
    assert callback.flags == [] or all(f.kind == "vanishing" for f in callback.flags)


@pytest.mark.parametrize("mode", [pytest.param((), marks=pytest.mark.slow), ("--eager",)], ids=["traced", "eager"])
def test_strategy_run_site(tmp_path, data, mode):
    # strategy.run over two logical CPUs: one site for both replicas, TensorFlow's verdicts, the user's cut;
    # the step inside a tf.function, or run eagerly (each replica's tape recorded on its own thread)
    mirrored = run_with_oracle(tmp_path, "mirrored_ctl.py", data, "--epochs", "2", *mode)
    check(mirrored)
    assert mirrored["stopped"]
    # the numeric check ran (traced: on one replica's share of the batch), so flowing variables have norms
    assert mirrored["sites"][0]["numeric"]
    assert all(n is not None and n > 0 for s, n in zip(mirrored["sites"][0]["statuses"], mirrored["sites"][0]["norms"])
               if s == "flows")
    (site,) = mirrored["sites"]
    status = dict(zip(site["names"], site["statuses"]))
    assert site["site"]["call"] == "tape.gradient" and site["heading"].endswith("(train step)")
    assert status["label_embedding"] == "blocked" and status["aux/kernel"] == "disconnected"
    assert site["blockers"][site["names"].index("label_embedding")] == ["StopGradient"]


def test_train_on_batch_sites(tmp_path, data):
    # Keras 3 train_on_batch: the built-in train_step, reported at the user's train_on_batch lines
    gan = run_with_oracle(tmp_path, "gan_train_on_batch.py", data)
    check(gan)
    assert gan["stopped"]
    assert [s["site"]["call"] for s in gan["sites"]] == ["model.train_on_batch train_step"] * 2
    d_site, g_site = gan["sites"]
    assert all(n.startswith("discriminator/") for n in d_site["names"])
    assert all(n.startswith("generator/") for n in g_site["names"])  # the frozen discriminator is not a source


def test_keras_callback_every_rechecks_the_step_on_later_batches():
    import keras
    import tensorflow as tf

    import gradflow

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 1)).astype("float32")
    x[4, 0] = np.nan  # batch 2 (batch_size 2) holds a NaN: its gradients are not finite
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    # TensorFlow's own answer on batch 2, with the weights as they are now (NaN input: any weights do)
    with tf.GradientTape() as tape:
        loss = keras.losses.mean_squared_error(y[4:6], model(x[4:6]))
    tf_finite = [bool(np.all(np.isfinite(g.numpy()))) for g in tape.gradient(loss, model.trainable_variables)]
    callback = gradflow.keras.GradflowCallback(every=2, show=False)
    model.fit(x, y, batch_size=2, epochs=1, verbose=0, shuffle=False, callbacks=[callback])
    assert sorted(callback.checks) == [0, 2]
    assert callback.checks[0][0] is callback.reports[0]
    first = {v.name: v.status.value for v in callback.checks[0][0].report.variables}
    later = {v.name: v.status.value for v in callback.checks[2][0].report.variables}
    assert set(first.values()) <= {"flows", "zero"}
    assert [later[v.name] == "nonfinite" for v in callback.checks[2][0].report.variables] == \
        [not finite for finite in tf_finite]
    assert any(f.batch == 2 and f.kind == "exploding" for f in callback.flags)  # a NaN norm is flagged


def test_steps_analyses_the_first_n_sites_then_stops(tmp_path):
    (tmp_path / "train.py").write_text(STEP)
    one = _gradflow("run", "--steps", "1", "--format", "json", "train.py", cwd=str(tmp_path))
    assert one.returncode == 0, one.stderr
    assert [s["site"]["line"] for s in json.loads(one.stdout)["sites"]] == [17]  # the eager site came first
    assert "step 1" not in one.stderr  # stopped at the next step


@pytest.mark.slow
def test_keras_callback_under_mirrored_strategy():
    proc = subprocess.run([sys.executable, os.path.join(SCRIPTS, "fit_callback_mirrored.py")],
                          capture_output=True, text=True, env=_env(), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [s in ("blocked", "disconnected") for s in result["statuses"]] == result["tf_none"]
    assert result["tf_none"].count(True) == 2  # the side head: no loss reads it
    assert result["numeric"] and result["checks"] == [0, 2]
    assert result["layers"] == ["hidden", "out"]
