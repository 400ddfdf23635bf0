"""gradflow's pytest plugin (entry point ``pytest11``): the ``gradflow`` fixture and zoo checks.

The fixture:

```python
def test_frozen_teacher(gradflow):
    gradflow.assert_gradients(loss_fn, x, flows=["student/*"], blocked=["teacher/*"])
```

Zoo checks: every model file the glob matches becomes one test, so that
pytest-xdist runs them in parallel (``-n 2``) and pytest-split or a CI matrix
shards them::

    pytest --gradflow-models 'models/**/*.py' [--gradflow-baseline DIR] [-n 2]

A model test inspects its file (``gradflow.inspect_file``) and fails when

- without ``--gradflow-baseline``: a trainable variable does not learn and is
  not expected not to (a variable the user froze with one ``tf.stop_gradient``
  is expected; an unused head is not);
- with ``--gradflow-baseline DIR``: the report changed for the worse against
  ``DIR/<model path>.json`` (see :mod:`gradflow.baseline`). A missing baseline
  fails; ``--gradflow-update-baseline`` (re)writes them all instead.

``--gradflow-static`` inspects in static mode (no autodiff; faster).
Test ids are ``gradflow[<model path>]``; select with ``-k``.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

import pytest

from .testing import GradflowFixture

__all__ = ["gradflow", "GradflowModelItem"]


@pytest.fixture
def gradflow() -> GradflowFixture:
    """``assert_gradients``, ``inspect`` and ``inspect_file`` from :mod:`gradflow`."""
    return GradflowFixture()


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("gradflow", "gradient-flow checks of model files (gradflow)")
    group.addoption("--gradflow-models", action="append", default=[], metavar="GLOB",
                    help="one test per model file the glob matches ('models/**/*.py'); repeatable")
    group.addoption("--gradflow-baseline", metavar="DIR", default=None,
                    help="compare each model with its baseline DIR/<model path>.json: fail only on changes "
                         "for the worse")
    group.addoption("--gradflow-update-baseline", action="store_true", default=False,
                    help="(re)write the baselines (--gradflow-baseline, assert_gradients(baseline=...)) "
                         "instead of checking them")
    group.addoption("--gradflow-static", action="store_true", default=False,
                    help="inspect the model files in static mode (no autodiff, no numeric check)")


def pytest_configure(config: Any) -> None:
    if config.getoption("--gradflow-update-baseline", default=False):
        os.environ["GRADFLOW_UPDATE_BASELINE"] = "1"  # assert_gradients(baseline=...) reads it


def model_files(patterns: list[str], root: Path) -> list[Path]:
    """The model files the globs match (relative to ``root``), sorted, each once.

    Files whose name starts with ``_`` (helpers such as ``__init__.py``) are left out.
    """
    found: set[Path] = set()
    for pattern in patterns:
        full = pattern if os.path.isabs(pattern) else os.path.join(str(root), pattern)
        for path in glob.glob(full, recursive=True):
            p = Path(path)
            if p.is_file() and p.suffix == ".py" and not p.name.startswith("_"):
                found.add(p.resolve())
    return sorted(found)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


class GradflowModelItem(pytest.Item):
    """One model file's gradient-flow check."""

    def __init__(self, *, path_to_model: Path, rel: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model_path = path_to_model
        self.rel = rel

    def runtest(self) -> None:
        from .api import inspect_file

        config = self.config
        # As the user names it (relative to the working directory): source lines and
        # baselines then read the same on every machine.
        rel = os.path.relpath(self.model_path)
        path = rel if not rel.startswith("..") else str(self.model_path)
        report = inspect_file(path, static=config.getoption("--gradflow-static"))
        baseline_dir = config.getoption("--gradflow-baseline")
        if baseline_dir:
            problems = self._baseline_problems(report, Path(baseline_dir))
        else:
            problems = [
                f"{v.name}: {v.status.value}: {v.why or v.expected_reason}"
                for v in report.variables
                if v.trainable and v.status.value != "flows" and v.expected is not True
            ]
        if problems:
            raise GradflowCheckFailed(self.rel, problems)

    def _baseline_problems(self, report: Any, folder: Path) -> list[str]:
        from .baseline import check_baseline, read_baseline, write_baseline
        from .errors import UsageError
        from .testing import updating_baselines

        path = folder / (self.rel + ".json")
        if updating_baselines():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_baseline(path, report.to_dict())
            return []
        try:
            recorded = read_baseline(path)
        except UsageError:
            return [f"no baseline at {path}: record it with --gradflow-update-baseline"]
        check = check_baseline(report.to_dict(), recorded, baseline_name=str(path), report_name=self.rel)
        return check.message().splitlines()

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, GradflowCheckFailed):
            return str(excinfo.value)
        from .errors import UserError

        if isinstance(excinfo.value, UserError):  # the model file itself is broken: say so, briefly
            exc = excinfo.value
            tb = f"\n{exc.user_traceback}" if getattr(exc, "user_traceback", None) else ""
            return f"gradflow could not inspect {self.rel}: {type(exc).__name__}: {exc}{tb}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple:
        return self.model_path, None, f"gradflow[{self.rel}]"


class GradflowCheckFailed(AssertionError):
    """A model file's gradient flow is not what the check accepts."""

    def __init__(self, rel: str, problems: list[str]) -> None:
        lines = [f"gradflow: {rel}: {len(problems)} problem(s) with gradient flow:"]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: Any, config: Any, items: list) -> None:
    """Add one item per model file before pytest's own selection (``-k``, ``-m``) runs."""
    patterns = config.getoption("--gradflow-models")
    if not patterns:
        return
    root = Path(str(config.rootpath))
    for path in model_files(patterns, root):
        rel = _relative(path, root)
        # Node id "<model path>::gradflow[<model path>]": xdist's --dist loadfile and pytest-split
        # group and time it by the model file, like any test.
        items.append(GradflowModelItem.from_parent(session, name=f"gradflow[{rel}]", path_to_model=path,
                                                   rel=rel, nodeid=f"{rel}::gradflow[{rel}]"))
