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

from .version import __version__

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

# Loaded on first use, so that ``import gradflow`` and ``gradflow --help`` stay light.
_LAZY = {"inspect": "api", "inspect_file": "api", "train": "training", "watch": "watching", "Report": "report",
         "Blocker": "schema", "Status": "schema", "StopGradientReport": "schema", "VariableReport": "schema"}


def __getattr__(name: str):
    """The API and result types, imported on first use: ``gradflow.inspect`` is
    :func:`gradflow.api.inspect` itself, ``gradflow.train`` :func:`gradflow.training.train`,
    ``gradflow.watch`` :func:`gradflow.watching.watch`,
    ``gradflow.Report`` :class:`gradflow.report.Report`, and so on."""
    if name == "keras":  # gradflow.keras imports Keras: only when asked for
        import importlib

        return importlib.import_module(".keras", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gradflow' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
