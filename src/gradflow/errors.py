"""gradflow's exceptions: every error class gradflow raises on purpose lives here.

The tree::

    GradflowError                  base of everything gradflow raises on purpose
    ├── UserError                  the user can fix it; the CLI exits 2
    │   ├── ModelFileError         missing file, not a model gradflow can open,
    │   │                          a corrupt SavedModel or GraphDef
    │   ├── ModelImportError       the user's module raised while importing
    │   ├── ModelExitError         the user's code called os._exit
    │   ├── TargetError            no target, several candidates, wrong kind
    │   ├── InputsError            example inputs that do not fit the target
    │   ├── TraceError             the target raised while TensorFlow traced it
    │   ├── LossError              the target's result is not a float loss
    │   ├── NoVariablesError       nothing to differentiate
    │   ├── RenderError            Graphviz missing or too slow; bad output path
    │   ├── TrainOptionsError      a training option that makes no sense
    │   │                          (steps < 1, an unknown optimizer name)
    │   ├── NoModelsError          ``gradflow docs`` found no model file
    │   └── UsageError             an option that makes no sense here (--loss
    │       │                      with a .py file, a bad -o suffix, -j 0...)
    │       └── ArgumentError      a bad argument to gradflow's Python API (also
    │                              a ValueError and a TypeError, as Python's own)
    └── AnalysisMismatch           gradflow's graph analysis disagrees with
                                   TensorFlow's autodiff: a gradflow bug

    Terminated (a KeyboardInterrupt) SIGTERM reached gradflow; the CLI exits 143
"""

from __future__ import annotations

__all__ = [
    "GradflowError",
    "UserError",
    "ModelFileError",
    "ModelImportError",
    "ModelExitError",
    "TargetError",
    "InputsError",
    "TraceError",
    "LossError",
    "NoVariablesError",
    "RenderError",
    "UsageError",
    "TrainOptionsError",
    "NoModelsError",
    "ArgumentError",
    "AnalysisMismatch",
    "Terminated",
]


class GradflowError(Exception):
    """Base class of every error gradflow raises on purpose."""


class UserError(GradflowError):
    """An error in what the user gave gradflow; the CLI exits with code 2.

    Attributes:
        user_traceback: the user's own frames, formatted, when their code raised.
    """

    exit_code = 2

    def __init__(self, message: str, *, user_traceback: str | None = None) -> None:
        super().__init__(message)
        self.user_traceback = user_traceback


class ModelFileError(UserError):
    """The model file is missing, not a model gradflow can open, or corrupt."""


class ModelImportError(UserError):
    """The user's module raised an exception while it was imported."""


class ModelExitError(UserError):
    """The user's code called ``os._exit`` while gradflow imported or traced it."""


class TargetError(UserError):
    """No target, several candidate targets, or a target of an unknown kind."""


class InputsError(UserError):
    """Example inputs that do not fit the target."""


class TraceError(UserError):
    """The user's target raised while TensorFlow traced it."""


class LossError(UserError):
    """The target did not produce a float loss tensor."""


class NoVariablesError(UserError):
    """There is no variable to differentiate the loss with respect to."""


class RenderError(UserError):
    """An output could not be rendered or written."""


class UsageError(UserError):
    """An option that makes no sense for this command or this kind of model file."""


class TrainOptionsError(UserError):
    """A training option that makes no sense (``--steps 0``, an unknown optimizer...)."""


class NoModelsError(UserError):
    """``gradflow docs`` found no model file in the paths it was given."""


class ArgumentError(UsageError, ValueError, TypeError):
    """A bad argument to gradflow's Python API: the wrong type or a value out of range.

    Also a ``ValueError`` and a ``TypeError``, so code written against Python's
    own conventions still catches it.
    """


class AnalysisMismatch(GradflowError):
    """gradflow's static analysis disagrees with TensorFlow's autodiff.

    This is always a bug in gradflow: TensorFlow's answer is the truth.
    """


class Terminated(KeyboardInterrupt):
    """A signal (SIGTERM) asked gradflow to stop; handled like Ctrl-C, with exit code ``128 + signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum
