"""Run a script under ``gradflow run`` with TensorFlow's own answers recorded beside it.

``python tests/run_oracle.py OUT.json SCRIPT.py [ARGS...]``: before gradflow's
interception is installed, every gradient call (``tape.gradient``,
``tf.gradients``, ``Optimizer.compute_gradients``) is wrapped to record which
of its results are None, keyed by the identity of its sources. OUT.json gets,
per site gradflow reported, its statuses and TensorFlow's None flags.
"""

import json
import sys

import tensorflow as tf
from tensorflow.python.eager import backprop

from gradflow.runner import run_script

recorded: dict = {}


def _key(sources, target):
    return tuple(id(s) for s in tf.nest.flatten(sources)), tuple(id(t) for t in tf.nest.flatten(target))


def _record(sources, target, flat_results):
    recorded.setdefault(_key(sources, target), [g is None for g in flat_results])


real_gradient = backprop.GradientTape.gradient


def gradient(tape, target, sources, *args, **kwargs):
    result = real_gradient(tape, target, sources, *args, **kwargs)
    _record(sources, target, tf.nest.flatten(result))
    return result


backprop.GradientTape.gradient = gradient

for module in (tf, tf.compat.v1):
    real = module.gradients

    def tf_gradients(ys, xs, *args, _real=real, **kwargs):
        result = _real(ys, xs, *args, **kwargs)
        _record(xs, ys, list(result))
        return result

    module.gradients = tf_gradients

real_cg = tf.compat.v1.train.Optimizer.compute_gradients


def compute_gradients(opt, loss, var_list=None, *args, **kwargs):
    pairs = real_cg(opt, loss, var_list, *args, **kwargs)
    _record([v for _, v in pairs], loss, [g for g, _ in pairs])
    return pairs


tf.compat.v1.train.Optimizer.compute_gradients = compute_gradients

out, script, args = sys.argv[1], sys.argv[2], sys.argv[3:]
result = run_script(script, args, timeout=300)
sites = []
for item in result.sites:
    sites.append({
        "heading": item.site.heading(),
        "site": item.site.to_dict(),
        "statuses": [v.status.value for v in item.report.variables],
        "names": [v.name for v in item.report.variables],
        "tf_none": recorded.get((item.source_ids, item.target_ids)),
        "blockers": [[b.type for b in v.blockers] for v in item.report.variables],
        "numeric": item.report.numeric,
        "norms": [v.grad_norm for v in item.report.variables],
    })
with open(out, "w") as fh:
    json.dump({"sites": sites, "errors": result.errors, "stopped": result.stopped}, fh, indent=1)
