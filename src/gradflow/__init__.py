"""gradflow: find where the gradient dies in a TensorFlow model, and show it.

```python
import gradflow

report = gradflow.inspect(loss_fn, x)      # or gradflow.inspect_file("model.py")
report = gradflow.inspect_file("saved/", function="loss")   # a SavedModel; a GraphDef: loss="loss:0"
print(report)                              # the terminal report
report.status("w1")                        # Status.FLOWS
report.to_dict()                           # the gradflow.report/1 JSON object
run = gradflow.train(loss_fn, x, steps=200)  # real optimizer steps: moved/frozen/diverged
run.plot("trajectories.svg")
```

Importing gradflow does not import TensorFlow; inspecting does.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import (  # noqa: E402
    AnalysisMismatch,
    GradflowError,
    InputsError,
    LossError,
    ModelFileError,
    ModelImportError,
    NoModelsError,
    NoVariablesError,
    RenderError,
    TargetError,
    TraceError,
    TrainOptionsError,
    UsageError,
    UserError,
)
from .report import Blocker, Report, Status, StopGradientReport, VariableReport  # noqa: E402


def inspect(*args, **kwargs):  # noqa: D103 - documented in api.inspect
    from .api import inspect as _inspect

    return _inspect(*args, **kwargs)


def inspect_file(*args, **kwargs):  # noqa: D103 - documented in api.inspect_file
    from .api import inspect_file as _inspect_file

    return _inspect_file(*args, **kwargs)


def train(*args, **kwargs):  # noqa: D103 - documented in training.train
    from .training import train as _train

    return _train(*args, **kwargs)


def watch(*args, **kwargs):  # noqa: D103 - documented in watching.watch
    from .watching import watch as _watch

    return _watch(*args, **kwargs)


def __getattr__(name):  # gradflow.keras imports Keras: only when asked for
    if name == "keras":
        import importlib

        return importlib.import_module(".keras", __name__)
    raise AttributeError(f"module 'gradflow' has no attribute {name!r}")


from .api import inspect as _api_inspect, inspect_file as _api_inspect_file  # noqa: E402
from .training import train as _training_train  # noqa: E402

inspect.__doc__ = _api_inspect.__doc__
inspect_file.__doc__ = _api_inspect_file.__doc__
train.__doc__ = _training_train.__doc__
watch.__doc__ = __import__("gradflow.watching", fromlist=["watch"]).watch.__doc__

__all__ = [
    "__version__",
    "inspect",
    "inspect_file",
    "train",
    "watch",
    "Report",
    "Status",
    "Blocker",
    "VariableReport",
    "StopGradientReport",
    "GradflowError",
    "UserError",
    "ModelFileError",
    "ModelImportError",
    "TargetError",
    "InputsError",
    "TraceError",
    "LossError",
    "NoVariablesError",
    "RenderError",
    "UsageError",
    "TrainOptionsError",
    "NoModelsError",
    "AnalysisMismatch",
]
