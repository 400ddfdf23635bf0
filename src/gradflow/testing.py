"""Assertions about gradient flow, for pytest (or any test runner).

```python
from gradflow.testing import assert_gradients

def test_teacher_is_frozen():
    assert_gradients(loss_fn, x, flows=["student/*"], blocked=["teacher/*"])

def test_model_file():
    assert_gradients("examples/stop_gradient.py", flows=["w1"], blocked=["w2", "w3"])
```

Names are exact variable names or :mod:`fnmatch` glob patterns (``"teacher/*"``,
``"dense_?/kernel"``). The assertion fails, listing every variable whose status
differs with gradflow's explanation (the blocking ops' types, reasons and
source lines), when a named variable has another status, or when a name or
pattern matches no variable at all (a typo must not pass silently).

Installed as a pytest plugin (entry point ``pytest11``), gradflow also gives
tests a ``gradflow`` fixture: ``gradflow.assert_gradients(...)``,
``gradflow.inspect(...)`` and ``gradflow.inspect_file(...)``.
"""

from __future__ import annotations

import fnmatch
import os
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from .report import Report, VariableReport

__all__ = ["assert_gradients", "GradflowFixture"]

_STATUSES = ("flows", "zero", "nonfinite", "blocked", "disconnected")
_GLOB_CHARS = set("*?[")


def _as_list(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _matches(pattern: str, names: list[str]) -> list[str]:
    if pattern in names:
        return [pattern]
    if not _GLOB_CHARS & set(pattern):
        return []
    return [n for n in names if fnmatch.fnmatchcase(n, pattern)]


def explain(v: "VariableReport") -> str:
    """One variable's verdict and why, on one or more lines."""
    lines = [f"{v.status.value}: {v.why}" if v.why else v.status.value]
    for b in v.blockers:
        where = f" at {b.location}" if b.location else ""
        lines.append(f"    blocked by {b.type} {b.op!r}{where}: {b.reason}")
    if v.grad_norm is not None:
        lines.append(f"    gradient norm {v.grad_norm:.3g}")
    return "\n".join(lines)


def check_report(report: "Report", expected: dict[str, list[str]]) -> list[str]:
    """The failures of ``report`` against ``{status: [names or patterns]}``, as messages."""
    names = [v.name for v in report.variables]
    by_name = {v.name: v for v in report.variables}
    problems: list[str] = []
    seen: dict[str, str] = {}
    for status in _STATUSES:
        for pattern in expected.get(status, []):
            hits = _matches(pattern, names)
            if not hits:
                problems.append(f"{pattern!r} (expected {status}) matches no variable")
                continue
            for name in hits:
                earlier = seen.get(name)
                if earlier is not None and earlier != status:
                    problems.append(f"{name}: expected both {earlier} and {status} (overlapping patterns)")
                    continue
                seen[name] = status
                v = by_name[name]
                if v.status.value != status:
                    via = "" if pattern == name else f" (via {pattern!r})"
                    detail = explain(v).replace("\n", "\n  ")
                    problems.append(f"{name}: expected {status}{via}, got {detail}")
    return problems


def _format_failure(report: "Report", problems: list[str]) -> str:
    where = f"{report.target}" + (f" in {report.source}" if report.source else "")
    lines = [f"gradflow: gradient flow of {where} differs from what the test expects:"]
    lines += [f"  - {p}" for p in problems]
    lines.append("variables: " + ", ".join(f"{v.name}={v.status.value}" for v in report.variables))
    return "\n".join(lines)


def assert_gradients(target: Any, *args: Any,
                     flows: str | Iterable[str] | None = None,
                     blocked: str | Iterable[str] | None = None,
                     disconnected: str | Iterable[str] | None = None,
                     zero: str | Iterable[str] | None = None,
                     nonfinite: str | Iterable[str] | None = None,
                     baseline: str | os.PathLike | None = None,
                     update_baseline: bool | None = None,
                     **kwargs: Any) -> "Report":
    """Inspect ``target`` and assert the named variables have the given statuses.

    Args:
        target: a model file path (``str`` or ``os.PathLike``: :func:`gradflow.inspect_file`;
            ``target=``/``inputs=`` keywords pass through), or anything
            :func:`gradflow.inspect` takes (a function, a Keras model, a TF1
            tensor), then ``*args``/``**kwargs`` are its example inputs and options.
            A :class:`~gradflow.report.Report` is checked as it is.
        flows, blocked, disconnected, zero, nonfinite: variable names or glob
            patterns expected to have that status. Variables not named are not checked.
        baseline: a ``gradflow.baseline/1`` file (see :mod:`gradflow.baseline`):
            the recorded state is accepted, and the assertion fails only on a
            change for the worse (a regression, a new trainable variable that
            does not learn). A missing file fails, saying how to record it.
        update_baseline: (re)write ``baseline`` from this report instead of
            checking it; default: the environment variable
            ``GRADFLOW_UPDATE_BASELINE=1`` (or pytest's ``--gradflow-update-baseline``).

    Returns:
        The report, for further checks.

    Raises:
        AssertionError: a named variable has another status, or a name or
            pattern matches no variable; the message explains each one.
    """
    __tracebackhide__ = True
    from .report import Report

    expected = {"flows": _as_list(flows), "blocked": _as_list(blocked),
                "disconnected": _as_list(disconnected), "zero": _as_list(zero),
                "nonfinite": _as_list(nonfinite)}
    if isinstance(target, Report):
        report = target
    elif isinstance(target, (str, os.PathLike)):
        if args:
            raise TypeError("assert_gradients(path, ...): a model file takes no example inputs; "
                            "use target=/inputs= to choose its attributes")
        from .api import inspect_file

        report = inspect_file(os.fspath(target), **kwargs)
    else:
        from .api import inspect

        report = inspect(target, *args, **kwargs)
    problems = check_report(report, expected)
    if baseline is not None:
        problems += _baseline_problems(report, baseline, update_baseline)
    if problems:
        raise AssertionError(_format_failure(report, problems))
    return report


def updating_baselines() -> bool:
    """Whether baselines are to be rewritten (``GRADFLOW_UPDATE_BASELINE=1``)."""
    return os.environ.get("GRADFLOW_UPDATE_BASELINE", "").strip().lower() in ("1", "true", "yes")


def _baseline_problems(report: "Report", baseline: str | os.PathLike, update: bool | None) -> list[str]:
    from .baseline import check_baseline, read_baseline, write_baseline
    from .errors import UsageError

    path = os.fspath(baseline)
    if update if update is not None else updating_baselines():
        write_baseline(path, report.to_dict())
        return []
    try:
        recorded = read_baseline(path)
    except UsageError as exc:
        return [f"{exc} (from a test: update_baseline=True, or GRADFLOW_UPDATE_BASELINE=1)"]
    check = check_baseline(report.to_dict(), recorded, baseline_name=path, report_name=report.source or report.target)
    return [f"against the baseline {path}: {line}" for line in check.message().splitlines()]


class GradflowFixture:
    """What the ``gradflow`` pytest fixture gives a test."""

    assert_gradients = staticmethod(assert_gradients)

    @staticmethod
    def inspect(*args: Any, **kwargs: Any) -> "Report":
        from .api import inspect

        return inspect(*args, **kwargs)

    @staticmethod
    def inspect_file(*args: Any, **kwargs: Any) -> "Report":
        from .api import inspect_file

        return inspect_file(*args, **kwargs)
