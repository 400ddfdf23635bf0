"""Baselines: the recorded, accepted gradient flow of a model, so that CI fails only on changes.

``gradflow inspect model.py --baseline gradflow-baseline.json`` compares the
report with the baseline file: a variable frozen on purpose, or a head known to
be unused, stays accepted as long as its status stays what was recorded. The
check fails on a change for the worse (a :mod:`gradflow.diff` regression) and
on a new trainable variable that does not learn. ``--update-baseline`` rewrites
the file from the report.

The file is ``gradflow.baseline/1``: deterministic (no timings, no gradient
norms, no source lines, sorted by name) and diff-friendly (one variable a line),
so that a pull request that changes it shows exactly which verdicts moved::

    {
      "schema": "gradflow.baseline/1",
      "source": "model.py",
      "target": "loss",
      "variables": [
        {"name": "student/kernel", "status": "flows", "trainable": true},
        {"name": "teacher/kernel", "status": "blocked", "trainable": true, "cuts": ["tf.stop_gradient"]}
      ],
      "stop_gradients": [
        {"op": "StopGradient", "shields": ["teacher/kernel"]}
      ]
    }

``gradflow diff`` reads a baseline file as either side.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from .diff import as_report_dict, baseline_as_report, diff_reports
from .errors import UsageError

__all__ = ["BASELINE_SCHEMA", "BaselineCheck", "baseline_text", "read_baseline", "write_baseline",
           "check_baseline", "baseline_as_report"]

BASELINE_SCHEMA = "gradflow.baseline/1"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=False)


def _entry(v: dict) -> dict:
    entry = {"name": v["name"], "status": v["status"], "trainable": v.get("trainable", True) is not False}
    paths = v.get("paths") or {}
    if v["status"] == "flows" and (paths.get("blocked") or 0) > 0:
        entry["partially_blocked"] = True
    reasons = sorted({b.get("reason") or b.get("type") or "" for b in v.get("blockers") or [] if isinstance(b, dict)})
    if v["status"] != "flows" or entry.get("partially_blocked"):
        reasons = [r for r in reasons if r]
        if reasons:
            entry["cuts"] = reasons
    return entry


def baseline_text(report: dict) -> str:
    """The baseline file's text for a ``gradflow.report/1`` dict: one variable a line, sorted by name."""
    variables = sorted((_entry(v) for v in report["variables"]), key=lambda e: e["name"])
    stops = []
    for s in report.get("stop_gradients") or []:
        if s.get("shields") and (s.get("origin") in (None, "user")):
            stops.append({"op": s["op"], "shields": list(s["shields"])})
    stops.sort(key=lambda s: (s["op"], s["shields"]))
    lines = ["{", f'  "schema": {_dumps(BASELINE_SCHEMA)},', f'  "source": {_dumps(report.get("source"))},',
             f'  "target": {_dumps(report.get("target"))},']
    lines.append('  "variables": [' if variables else '  "variables": [],')
    if variables:
        lines.append(",\n".join("    " + _dumps(e) for e in variables))
        lines.append("  ],")
    lines.append('  "stop_gradients": [' if stops else '  "stop_gradients": []')
    if stops:
        lines.append(",\n".join("    " + _dumps(s) for s in stops))
        lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_baseline(path: str | os.PathLike, report: dict) -> None:
    """Write (or rewrite) the baseline file at ``path`` from a report dict."""
    from .outputs import write_atomic

    write_atomic(os.fspath(path), baseline_text(report))


def read_baseline(path: str | os.PathLike) -> dict:
    """The baseline at ``path`` as a report dict (``gradflow.report/1`` JSON works too).

    Raises:
        UsageError: no such file (create it with ``--update-baseline``), or not a baseline.
    """
    from .errors import ModelFileError

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise UsageError(f"no baseline at {path}. Record the current state first with "
                         f"`gradflow inspect MODEL --baseline {path} --update-baseline`.")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        return as_report_dict(data, path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ModelFileError) as exc:
        raise UsageError(f"{path} is not a gradflow baseline ({exc}). Rewrite it with --update-baseline.") from None


@dataclass(frozen=True)
class BaselineCheck:
    """A report checked against its baseline.

    Attributes:
        diff: every change from the baseline to the report.
        failures: the changes that fail the check: regressions, and new
            trainable variables that do not learn.
    """

    diff: Any
    failures: tuple

    @property
    def ok(self) -> bool:
        return not self.failures

    def message(self) -> str:
        """The failing changes, one a line."""
        return "\n".join(f"{c.name}: {c.before or '-'} -> {c.after or '-'} ({c.kind}): {c.why}" for c in self.failures)


def check_baseline(report: dict, baseline: dict, *, baseline_name: str = "baseline",
                   report_name: str = "report") -> BaselineCheck:
    """Check a report dict against a baseline (read by :func:`read_baseline`)."""
    diff = diff_reports(baseline, report, before_name=baseline_name, after_name=report_name)
    failures = tuple(c for c in diff.changes
                     if c.kind == "regression"
                     or (c.kind == "added" and c.after != "flows" and _trainable(report, c.name)))
    return BaselineCheck(diff, failures)


def _trainable(report: dict, name: str) -> bool:
    for v in report["variables"]:
        if v["name"] == name:
            return v.get("trainable", True) is not False
    return False


# -- the command line (``gradflow inspect --baseline FILE [--update-baseline]``) --------
def cli_read(args: Any) -> dict | None:
    """The baseline ``--baseline`` names, read before the model loads (None: no check to do).

    Raises:
        UsageError: ``--update-baseline`` without ``--baseline``, or a missing or broken file.
    """
    if args.update_baseline and not args.baseline:
        raise UsageError("--update-baseline needs --baseline FILE: the file to write.")
    if not args.baseline or args.update_baseline:
        return None
    return read_baseline(args.baseline)


def cli_apply(args: Any, report: Any, baseline: dict | None) -> tuple[int, dict[str, str]]:
    """Write or check the baseline after the report is made.

    Returns:
        The exit code so far (1: the check failed), and the statuses the
        baseline accepts by variable name (``--fail-on`` skips those).
    """
    from rich.console import Console

    if baseline is None and not args.update_baseline:
        return 0, {}
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    current = report.to_dict()
    if args.update_baseline:
        write_baseline(args.baseline, current)
        err.print(f"wrote the baseline {args.baseline} ({len(current['variables'])} variables)", markup=False)
        return 0, {}
    if baseline is None:
        return 0, {}
    check = check_baseline(current, baseline, baseline_name=args.baseline, report_name=args.file)
    accepted = {v["name"]: v["status"] for v in baseline["variables"]}
    if check.ok:
        changes = len(check.diff.changes)
        more = f"; {changes} other change(s): {check.diff.headline()}" if changes else ""
        err.print(f"baseline {args.baseline}: no regression{more}", markup=False)
        return 0, accepted
    err.print(f"baseline {args.baseline}: {len(check.failures)} change(s) for the worse:\n{check.message()}\n"
              "Fix the model, or accept the new state with --update-baseline.", markup=False)
    return 1, accepted
