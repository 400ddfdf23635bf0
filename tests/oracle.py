"""TensorFlow's own answer for a model file: an oracle independent of gradflow.

``tf_answer(path)`` loads a model file the way CONTRACT.md describes (in a
deliberately simple way), asks TensorFlow's autodiff for the gradient of the
loss with respect to every variable considered, and returns

    {variable_name: {"none": bool, "all_zero": bool | None, "finite": bool | None}}

``none`` is True when TensorFlow's gradient is None (or the variable is not a
float variable); ``all_zero`` / ``finite`` describe the gradient's values on the
example inputs and are None when the gradient is None.

This module must never import gradflow.

Some model files change TensorFlow's global state
(``tf.compat.v1.disable_eager_execution()``), so callers should run each call
in a fresh interpreter::

    python tests/oracle.py FILE      # prints one line "ORACLE_JSON:{...}"

``run_oracle(path)`` does exactly that and parses the result.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from typing import Any

MARKER = "ORACLE_JSON:"
TARGET_NAMES = ("loss", "loss_fn", "compute_loss")


# --------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------
def _load_module(path: str):
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    stem = os.path.splitext(os.path.basename(path))[0]
    digest = hashlib.sha1(path.encode()).hexdigest()[:10]
    name = f"_oracle_{stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _is_tf_function(obj) -> bool:
    import tensorflow as tf

    return isinstance(obj, tf.types.experimental.PolymorphicFunction)


def _keras_models() -> tuple:
    import keras

    legacy = sys.modules.get("tf_keras")  # Keras 2, when the model file uses it
    return (keras.Model,) + ((legacy.Model,) if legacy is not None else ())


def _is_compiled_keras_model(obj) -> bool:
    return isinstance(obj, _keras_models()) and bool(
        getattr(obj, "compiled", False) or getattr(obj, "optimizer", None)
    )


def _pick_target(module):
    for name in TARGET_NAMES:
        if hasattr(module, name):
            return name, getattr(module, name)
    candidates = [
        (name, obj)
        for name, obj in vars(module).items()
        if not name.startswith("__")
        and (_is_tf_function(obj) or _is_compiled_keras_model(obj))
    ]
    if len(candidates) != 1:
        raise RuntimeError(
            f"oracle: no unique target; candidates: {[n for n, _ in candidates]}"
        )
    return candidates[0]


# --------------------------------------------------------------------------
# variables and names
# --------------------------------------------------------------------------
def _underlying(v):
    """The tf.Variable behind a Keras 3 variable (or v itself)."""
    import keras

    if isinstance(v, keras.Variable):
        return v.value
    return v


def _module_level_variables(module) -> list:
    """Variables reachable from module-level globals (or the `variables` list)."""
    import keras
    import tensorflow as tf

    explicit = getattr(module, "variables", None)
    if isinstance(explicit, (list, tuple)):
        return list(explicit)
    found = []
    for name, obj in vars(module).items():
        if name.startswith("__"):
            continue
        if isinstance(obj, (tf.Variable, keras.Variable)):
            found.append(obj)
        elif isinstance(obj, (keras.layers.Layer, tf.Module)):
            try:
                found.extend(obj.variables)
            except Exception:  # pragma: no cover - unbuilt objects etc.
                pass
    return found


def _keras_paths(module, extra=()) -> dict:
    """id(underlying tf.Variable) -> Keras path, for Keras variables we can see."""
    import keras

    paths = {}
    pool = list(extra)
    for name, obj in vars(module).items():
        if name.startswith("__"):
            continue
        if isinstance(obj, keras.Variable):
            pool.append(obj)
        elif isinstance(obj, keras.layers.Layer):
            pool.extend(obj.variables)
        elif isinstance(obj, (list, tuple)):
            pool.extend(o for o in obj if isinstance(o, keras.Variable))
    for v in pool:
        if isinstance(v, keras.Variable) and v._value is not None:
            paths[id(v.value)] = v.path
    return paths


def _dedupe(variables) -> list:
    """One entry per variable: a tf.distribute variable stands for its per-replica copies."""
    import tensorflow as tf

    containers = {}
    for v in variables:
        u = _underlying(v)
        if isinstance(u, tf.distribute.DistributedValues):
            for copy in u.values:
                containers[id(copy)] = u
    seen = set()
    out = []
    for v in variables:
        u = _underlying(v)
        u = containers.get(id(u), u)
        if id(u) in seen:
            continue
        seen.add(id(u))
        out.append(u)
    return out


def _names(variables, keras_paths) -> list[str]:
    names = []
    counts: dict[str, int] = {}
    for v in variables:
        base = keras_paths.get(id(v))
        if base is None:
            base = getattr(v, "path", None) or v.name
            if base.endswith(":0"):
                base = base[:-2]
        counts[base] = counts.get(base, 0) + 1
        names.append(base if counts[base] == 1 else f"{base}#{counts[base]}")
    return names


def _is_float(v) -> bool:
    return v.dtype.base_dtype.is_floating


# --------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------
def _synth_spec(spec, rng):
    import numpy as np
    import tensorflow as tf

    shape = [2 if d is None else d for d in spec.shape.as_list()] if spec.shape.rank is not None else [2]
    dtype = tf.as_dtype(spec.dtype)
    if dtype.is_floating:
        return tf.constant(rng.standard_normal(shape).astype(dtype.as_numpy_dtype))
    if dtype == tf.bool:
        return tf.zeros(shape, tf.bool)
    return tf.zeros(shape, dtype)


def _inputs(module, fn):
    """(args, kwargs) for calling the target."""
    import numpy as np
    import tensorflow as tf

    if hasattr(module, "example_inputs"):
        ex = module.example_inputs
        if isinstance(ex, tuple):
            return ex, {}
        if isinstance(ex, dict):
            return (), ex
        return (ex,), {}
    sig = getattr(fn, "input_signature", None)
    if sig:
        rng = np.random.default_rng(0)
        args = tf.nest.map_structure(lambda s: _synth_spec(s, rng), tuple(sig))
        return tuple(args), {}
    return (), {}


# --------------------------------------------------------------------------
# numerics
# --------------------------------------------------------------------------
def _verdict(g) -> dict:
    import numpy as np

    if g is None:
        return {"none": True, "all_zero": None, "finite": None}
    arr = np.asarray(g)
    return {
        "none": False,
        "all_zero": bool(not np.any(arr != 0)),
        "finite": bool(np.all(np.isfinite(arr))),
    }


# --------------------------------------------------------------------------
# eager (TF2) targets
# --------------------------------------------------------------------------
def _answer_eager(module, target) -> dict:
    import tensorflow as tf

    if _is_compiled_keras_model(target):
        model = target
        x, y = tf.nest.map_structure(tf.convert_to_tensor, tuple(module.example_inputs[:2]))
        if not model.built:
            model(x)

        import inspect

        takes_training = "training" in inspect.signature(model.compute_loss).parameters

        @tf.function
        def fn():
            y_pred = model(x, training=True)
            if takes_training:  # Keras 3
                return model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
            return model.compute_loss(x=x, y=y, y_pred=y_pred)  # tf_keras

        args, kwargs = (), {}
        extra = list(model.variables)
    else:
        if _is_tf_function(target):
            fn = target
        elif not hasattr(target, "__code__") and _is_tf_function(
            getattr(target, "__call__", None)
        ):
            fn = target.__call__
        else:
            fn = tf.function(target)
        args, kwargs = _inputs(module, fn)
        extra = []

    concrete = fn.get_concrete_function(*args, **kwargs)
    traced = list(concrete.graph.variables)
    module_vars = _module_level_variables(module)
    variables = _dedupe(module_vars + extra + traced)
    names = _names(variables, _keras_paths(module, extra + module_vars))

    float_vars = [v for v in variables if _is_float(v)]
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(float_vars)
        loss = fn(*args, **kwargs)
    grads = tape.gradient(loss, float_vars)
    by_id = {id(v): g for v, g in zip(float_vars, grads)}

    out = {}
    for name, v in zip(names, variables):
        g = by_id.get(id(v))
        if g is not None:
            g = tf.convert_to_tensor(g).numpy()
        out[name] = _verdict(g)
    return out


# --------------------------------------------------------------------------
# TF1 graph targets
# --------------------------------------------------------------------------
def _answer_graph(module, loss) -> dict:
    import numpy as np
    import tensorflow as tf

    g = loss.graph
    with g.as_default():
        collection = g.get_collection(tf.compat.v1.GraphKeys.GLOBAL_VARIABLES)
        module_vars = [
            v
            for v in _module_level_variables(module)
            if getattr(v, "graph", None) is g
        ]
        variables = _dedupe(list(collection) + module_vars)
        names = _names(variables, {})
        float_vars = [v for v in variables if _is_float(v)]
        grads = tf.compat.v1.gradients(loss, float_vars) if float_vars else []

        feed = {}
        example_feed = getattr(module, "example_feed", None) or {}
        for k, val in example_feed.items():
            feed[k] = val
        rng = np.random.default_rng(0)
        fed_names = {getattr(k, "name", k) for k in feed}
        for op in g.get_operations():
            if op.type != "Placeholder":
                continue
            t = op.outputs[0]
            if t.name in fed_names or t in feed:
                continue
            shape = t.shape
            dims = [2 if d is None else d for d in shape.as_list()] if shape.rank is not None else [2]
            dtype = t.dtype
            if dtype.is_floating:
                feed[t] = rng.standard_normal(dims).astype(dtype.as_numpy_dtype)
            elif dtype == tf.bool:
                feed[t] = np.zeros(dims, bool)
            else:
                feed[t] = np.zeros(dims, dtype.as_numpy_dtype)

        fetch = {}
        for v, gr in zip(float_vars, grads):
            if gr is not None:
                if isinstance(gr, tf.IndexedSlices):
                    gr = tf.convert_to_tensor(gr)
                fetch[id(v)] = gr
        init = [
            tf.compat.v1.global_variables_initializer(),
            tf.compat.v1.local_variables_initializer(),
        ]
        with tf.compat.v1.Session(graph=g) as sess:
            sess.run(init)
            keys = list(fetch)
            values = sess.run([fetch[k] for k in keys], feed_dict=feed) if keys else []
        numeric = dict(zip(keys, values))

    out = {}
    for name, v in zip(names, variables):
        out[name] = _verdict(numeric.get(id(v)))
    return out


# --------------------------------------------------------------------------
def tf_answer(path: str) -> dict:
    """TensorFlow's per-variable gradient verdict for the model file at `path`."""
    import tensorflow as tf

    module = _load_module(path)
    _, target = _pick_target(module)
    if isinstance(target, tf.Tensor) and tf.is_symbolic_tensor(target):
        return _answer_graph(module, target)
    return _answer_eager(module, target)


def run_oracle(path: str, timeout: float = 300) -> dict:
    """Run tf_answer(path) in a fresh interpreter and return its result."""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("CUDA_VISIBLE_DEVICES", "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), path],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):])
    raise RuntimeError(
        f"oracle failed for {path} (exit {proc.returncode}):\n"
        f"--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-6000:]}"
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tests/oracle.py MODEL_FILE.py", file=sys.stderr)
        return 2
    # Anything the model file prints goes to stderr; stdout carries the answer.
    with contextlib.redirect_stdout(sys.stderr):
        answer = tf_answer(argv[0])
    print(MARKER + json.dumps(answer, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
