"""``gradflow train``: run real optimizer steps and watch every variable move, or not.

``gradflow inspect`` says which variables *can* learn. ``train`` runs N real
optimizer steps on the model file's loss and records, per step, the loss, every
variable's value and every gradient's norm, then gives each variable a verdict:

========== ==============================================================
verdict    meaning
========== ==============================================================
moved      at least one bit of its value changed during training
frozen     its value is unchanged to the last bit
diverged   its value became NaN or Inf
========== ==============================================================

and checks it against the static verdict of ``inspect`` (a ``blocked``
variable that moved, or a ``flows`` variable that stayed frozen, is flagged and
explained). The step is built here, fresh: ``tf.GradientTape`` around the
target, then ``optimizer.apply_gradients`` (Keras optimizers), or, for a TF1
graph, the file's own ``train_op`` or a ``tf.compat.v1.train`` optimizer.

Steps are counted from 1. Step k computes the loss and the gradients on the
values left by step k-1 and then updates them; ``values[0]`` holds the initial
values and ``values[k]`` the values after step k. See ``docs/train.md``.

The package, one job a module (each imports only the ones above it):

============== ==============================================================
module         job
============== ==============================================================
result         ``TrainReport`` and its parts, the ``gradflow.train/1`` JSON
judge          the verdict of a variable, and whether ``inspect`` predicted it
record         values, gradient statistics and losses, step by step
batches        what each step is fed (``example_batches``, cycled)
optimizers     checking the options, building or describing the optimizer
writers        ops that write a variable other than an optimizer step
step           what both runners share: the setup, gradient statistics
eager          the TF2 runner (``tf.function`` + ``tf.GradientTape``)
graph          the TF1 runner (a ``tf.compat.v1.Session``)
run            ``train`` and ``train_file``: static verdict, runner, report
============== ==============================================================
"""

from __future__ import annotations

from ..errors import TrainOptionsError
from .batches import BATCHES_ATTR
from .judge import decide_verdict, judge
from .optimizers import DEFAULT_LR, DEFAULT_OPTIMIZER, OPTIMIZERS, check_options
from .record import SAMPLED_ELEMENTS, SMALL_VARIABLE, sample_indices
from .result import PLOT_SUFFIXES, SCHEMA, TIMING_KEYS, VERDICTS, OptimizerInfo, TrainReport, VariableRun, WatchRun
from .run import DEFAULT_STEPS, SEED, train, train_file
from .step import TRAIN_OP_ATTR, WATCH_ATTR

__all__ = [
    "train",
    "train_file",
    "check_options",
    "PLOT_SUFFIXES",
    "TrainReport",
    "VariableRun",
    "WatchRun",
    "OptimizerInfo",
    "TrainOptionsError",
    "SCHEMA",
    "VERDICTS",
    # the building blocks, at home in their modules
    "decide_verdict",
    "judge",
    "sample_indices",
    "OPTIMIZERS",
    "DEFAULT_LR",
    "DEFAULT_OPTIMIZER",
    "DEFAULT_STEPS",
    "SMALL_VARIABLE",
    "SAMPLED_ELEMENTS",
    "SEED",
    "BATCHES_ATTR",
    "WATCH_ATTR",
    "TRAIN_OP_ATTR",
    "TIMING_KEYS",
]
