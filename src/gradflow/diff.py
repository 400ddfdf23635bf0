"""``gradflow diff BEFORE AFTER``: how gradient flow changed between two versions of a model.

Each side is a ``gradflow.report/1`` JSON object (from a model file inspected on
the spot, a saved ``--format json`` report, also one written by an older
gradflow without the newer optional fields, or a ``gradflow.baseline/1`` file).
Everything here works on those plain dicts: TF-free, and no field beyond the
contract's required ones is needed.

Variables are matched by name. The changes, in the order they are listed:

============== ============================================================
kind           when
============== ============================================================
regression     a trainable variable stopped receiving gradient: ``flows`` ->
               anything else, or ``zero``/``nonfinite`` -> ``blocked``/``disconnected``
improvement    the reverse
cut-added      a user ``tf.stop_gradient`` that shields variables is new, or a
               flowing variable became partially blocked (name: the variable)
cut-removed    the reverse of both
added          a variable only AFTER has
removed        a variable only BEFORE has
============== ============================================================

A move between two statuses of one rank (``blocked`` <-> ``disconnected``,
``zero`` <-> ``nonfinite``) is no change in whether the variable learns, and
non-trainable variables never regress: neither is listed.

``why`` says what did it: for a regression the decisive cut (``Blocker.decisive``
when the report has it, else the first cut with a source line) and its line.

```python
from gradflow.diff import diff_reports
d = diff_reports(old_dict, new_dict, before="old.json", after="model.py")
d.regressions          # the changes of kind "regression"
print(d.to_json())     # gradflow.diff/1
```
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from .errors import ModelFileError, UsageError

__all__ = ["DIFF_SCHEMA", "KINDS", "ORDER", "Change", "Diff", "diff_reports", "load_report_json", "is_json_side",
           "as_report_dict", "baseline_as_report", "cut_text", "where_of", "decisive_first", "path_counts",
           "failing", "check_fail_on"]

DIFF_SCHEMA = "gradflow.diff/1"
KINDS = ("regression", "improvement", "cut-added", "cut-removed", "added", "removed")
REPORT_SCHEMAS = ("gradflow.report/1", "gradflow.baseline/1")

# Whether a variable learns, by status: a regression lowers it.
_RANK = {"flows": 2, "zero": 1, "nonfinite": 1, "blocked": 0, "disconnected": 0}
ORDER = {kind: i for i, kind in enumerate(KINDS)}  # the order changes are listed in


@dataclass(frozen=True)
class Change:
    """One difference between BEFORE and AFTER.

    Attributes:
        name: the variable's name, or for a StopGradient its op name.
        before: the variable's status before (a cut: its location), None when absent.
        after: the same after.
        kind: one of :data:`KINDS`.
        why: what did it, in words, with the source line.
    """

    name: str
    before: str | None
    after: str | None
    kind: str
    why: str

    def to_dict(self) -> dict:
        return {"name": self.name, "before": self.before, "after": self.after, "kind": self.kind, "why": self.why}


@dataclass(frozen=True)
class Diff:
    """Every change between two reports (``before``/``after``: how the sides were named)."""

    before: str
    after: str
    changes: tuple[Change, ...]
    before_report: dict = field(default_factory=dict, compare=False, repr=False)
    after_report: dict = field(default_factory=dict, compare=False, repr=False)

    def of_kind(self, *kinds: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind in kinds)

    @property
    def regressions(self) -> tuple[Change, ...]:
        return self.of_kind("regression")

    def counts(self) -> dict[str, int]:
        counts = {k: 0 for k in KINDS}
        for c in self.changes:
            counts[c.kind] += 1
        return counts

    def headline(self) -> str:
        """One line: how many changes of each kind, regressions first."""
        counts = self.counts()
        parts = [f"{n} {_plural(kind, n)}" for kind, n in counts.items() if n]
        return ", ".join(parts) if parts else "no gradient-flow changes"

    def to_dict(self) -> dict:
        """The contract's ``gradflow.diff/1`` object."""
        return {"schema": DIFF_SCHEMA, "before": self.before, "after": self.after,
                "changes": [c.to_dict() for c in self.changes]}

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    # The facade's lazy edges into render/ (as Report's): drawing never runs the diff again.
    def to_markdown(self) -> str:
        """Markdown for a pull-request comment (:func:`gradflow.render.diff_view.diff_markdown`)."""
        from .render.diff_view import diff_markdown

        return diff_markdown(self)

    def __rich__(self) -> Any:
        from .render.diff_view import diff_renderable

        return diff_renderable(self)


def _plural(kind: str, n: int) -> str:
    if n == 1 or kind in ("cut-added", "cut-removed", "added", "removed"):
        return kind
    return kind + "s"


# -- reading a side ------------------------------------------------------------
def is_json_side(path: str) -> bool:
    """Whether ``path`` names a saved report (``.json``) rather than a model."""
    return str(path).lower().endswith(".json")


def load_report_json(path: str) -> dict:
    """A saved ``gradflow.report/1`` (or ``gradflow.baseline/1``) JSON file, as a report dict.

    Raises:
        ModelFileError: missing, not JSON, or not a gradflow report.
    """
    if not os.path.isfile(path):
        raise ModelFileError(f"{path} does not exist. Give a model file or a JSON report saved by "
                             "`gradflow inspect FILE --format json > report.json`.")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} is not a JSON file ({exc}). Save one with "
                             "`gradflow inspect FILE --format json > report.json`.") from None
    return as_report_dict(data, path)


def as_report_dict(data: Any, where: str) -> dict:
    """Check that ``data`` is a report (or baseline) object and return it as a report dict.

    Raises:
        ModelFileError: the object is not a gradflow report.
    """
    schema = data.get("schema") if isinstance(data, dict) else None
    if schema not in REPORT_SCHEMAS or not isinstance(data.get("variables"), list):
        raise ModelFileError(
            f"{where} is not a gradflow report (schema {schema!r}; expected {REPORT_SCHEMAS[0]!r} "
            "with a `variables` list). Save one with `gradflow inspect FILE --format json`.")
    for i, v in enumerate(data["variables"]):
        if not (isinstance(v, dict) and isinstance(v.get("name"), str) and v.get("status") in _RANK):
            raise ModelFileError(f"{where}: variables[{i}] has no `name` or a status gradflow does not know "
                                 f"({v!r:.120}). Save the report again with `gradflow inspect --format json`.")
    if schema == "gradflow.baseline/1":
        return baseline_as_report(data)
    return data


def baseline_as_report(data: dict) -> dict:
    """A ``gradflow.baseline/1`` object as the ``gradflow.report/1`` fields :mod:`gradflow.diff` reads."""
    variables = []
    for e in data["variables"]:
        partial = bool(e.get("partially_blocked"))
        cuts = [{"op": reason, "type": "", "location": None, "reason": reason} for reason in e.get("cuts") or []]
        variables.append({"name": e["name"], "status": e["status"], "trainable": e.get("trainable", True),
                          "paths": {"total": 2 if partial else 1, "blocked": 1 if partial else 0},
                          "blockers": cuts})
    stops = [{"op": s["op"], "location": None, "shields": list(s.get("shields") or [])}
             for s in data.get("stop_gradients") or []]
    return {"schema": "gradflow.report/1", "source": data.get("source"), "target": data.get("target"),
            "variables": variables, "stop_gradients": stops}


# -- reading one variable ------------------------------------------------------
def where_of(blocker: dict) -> str:
    loc = blocker.get("location")
    if isinstance(loc, dict) and loc.get("file") is not None and loc.get("line") is not None:
        return f"{loc['file']}:{loc['line']}"
    return str(blocker.get("op") or blocker.get("type") or "an op")


def decisive_first(blockers: Sequence[dict]) -> list[dict]:
    """The cut that explains the verdict first: decisive ones, else those with a source line."""
    decisive = [b for b in blockers if b.get("decisive") is True]
    if decisive:
        return decisive + [b for b in blockers if b.get("decisive") is not True]
    located = [b for b in blockers if isinstance(b.get("location"), dict)]
    return located + [b for b in blockers if not isinstance(b.get("location"), dict)]


def cut_text(blockers: Sequence[dict]) -> str:
    """``"tf.stop_gradient at model.py:31 (+1 more)"``: the decisive cut, or the first with a line."""
    ordered = decisive_first([b for b in blockers if isinstance(b, dict)])
    if not ordered:
        return ""
    first = ordered[0]
    what = first.get("reason") or f"{first.get('type') or 'an op'} cuts the gradient"
    more = f" (+{len(ordered) - 1} more)" if len(ordered) > 1 else ""
    return f"{what} at {where_of(first)}{more}"


def path_counts(v: dict) -> tuple[int, int]:
    p = v.get("paths") if isinstance(v.get("paths"), dict) else {}
    return int(p.get("total") or 0), int(p.get("blocked") or 0)


def _partial(v: dict) -> bool:
    return v["status"] == "flows" and path_counts(v)[1] > 0


def _trainable(v: dict) -> bool:
    return v.get("trainable", True) is not False


def _status_why(v: dict, *, now: bool = True) -> str:
    """Why a variable does not learn, in words."""
    status = v["status"]
    cuts = cut_text(v.get("blockers") or [])
    if status == "disconnected":
        return "the loss no longer reads it" if now else "the loss never read it"
    if status == "blocked":
        return cuts or "every path to the loss is cut"
    if status == "zero":
        return v.get("why") or "its gradient is all zero on the example inputs"
    if status == "nonfinite":
        return v.get("why") or "its gradient holds NaN or Inf on the example inputs"
    return ""


# -- the diff ------------------------------------------------------------------
def _variable_change(name: str, b: dict, a: dict) -> list[Change]:
    sb, sa = b["status"], a["status"]
    if _RANK[sa] < _RANK[sb]:
        if not _trainable(a):  # frozen with trainable=False, or never meant to learn
            return []
        return [Change(name, sb, sa, "regression", _status_why(a))]
    if _RANK[sa] > _RANK[sb]:
        was = _status_why(b, now=False)
        why = "receives gradient again" if sa == "flows" else f"gradient is a tensor again ({sa})"
        return [Change(name, sb, sa, "improvement", f"{why}; was: {was}" if was else why)]
    if sa == "flows" and sb == "flows" and _partial(a) != _partial(b):
        total, cut = path_counts(a)
        if _partial(a):
            what = cut_text(a.get("blockers") or []) or "a cut"
            return [Change(name, sb, sa, "cut-added", f"partially blocked now: {cut} of {total} paths cut by {what}")]
        old_total, old_cut = path_counts(b)
        what = cut_text(b.get("blockers") or [])
        return [Change(name, sb, sa, "cut-removed",
                       f"no path cut any more (was {old_cut} of {old_total}" + (f": {what})" if what else ")"))]
    return []


def _user_cuts(report: dict) -> list[dict]:
    """The StopGradients the user wrote that shield a variable (library cuts and shieldless ones left out)."""
    out = []
    for s in report.get("stop_gradients") or []:
        if not isinstance(s, dict) or not isinstance(s.get("op"), str):
            continue
        origin = s.get("origin")
        if origin is not None and origin != "user":
            continue
        if not s.get("shields"):
            continue
        out.append(s)
    return out


def _cut_changes(before: dict, after: dict) -> list[Change]:
    old, new = _user_cuts(before), _user_cuts(after)
    old_ops = {s["op"]: s for s in old}
    new_ops = {s["op"]: s for s in new}
    gone = [s for s in old if s["op"] not in new_ops]
    came = [s for s in new if s["op"] not in old_ops]
    # A cut that only got another op name (an earlier stop_gradient was added) still
    # shields the same variables: the same cut.
    same = {tuple(s["shields"]) for s in gone} & {tuple(s["shields"]) for s in came}
    changes = []
    for s in came:
        if tuple(s["shields"]) not in same:
            changes.append(Change(s["op"], None, where_of(s), "cut-added",
                                  f"tf.stop_gradient at {where_of(s)} now cuts every path of {_names(s['shields'])}"))
    for s in gone:
        if tuple(s["shields"]) not in same:
            changes.append(Change(s["op"], where_of(s), None, "cut-removed",
                                  f"the tf.stop_gradient at {where_of(s)} that cut {_names(s['shields'])} is gone"))
    return changes


def _names(names: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def _signature(v: dict) -> tuple:
    shape = v.get("shape")
    return (tuple(shape) if isinstance(shape, list) else shape, v.get("dtype"), v["status"])


def diff_reports(before: dict, after: dict, *, before_name: str = "before", after_name: str = "after") -> Diff:
    """Every change from report ``before`` to report ``after`` (``gradflow.report/1`` dicts).

    Args:
        before: the old report (``Report.to_dict()`` or a saved JSON; older
            reports without the optional fields work).
        after: the new report.
        before_name: how the diff names the old side (a file name).
        after_name: how it names the new side.

    Returns:
        The :class:`Diff`, changes ordered by kind (regressions first), then as
        the variables are ordered in the report.
    """
    b_vars = {v["name"]: v for v in before["variables"]}
    a_vars = {v["name"]: v for v in after["variables"]}
    order = {name: i for i, name in enumerate(list(a_vars) + [n for n in b_vars if n not in a_vars])}
    changes: list[Change] = []
    for name, a in a_vars.items():
        if name in b_vars:
            changes += _variable_change(name, b_vars[name], a)
    added = [n for n in a_vars if n not in b_vars]
    removed = [n for n in b_vars if n not in a_vars]
    # A renamed layer: one removed and one added variable of the same shape, dtype and status.
    by_sig: dict[tuple, list[str]] = {}
    for n in removed:
        by_sig.setdefault(_signature(b_vars[n]), []).append(n)
    renamed_from = {}
    for n in added:
        candidates = by_sig.get(_signature(a_vars[n]), [])
        if len(candidates) == 1 and sum(_signature(a_vars[m]) == _signature(a_vars[n]) for m in added) == 1:
            renamed_from[n] = candidates[0]
    renamed_to = {old: new for new, old in renamed_from.items()}
    for n in added:
        v = a_vars[n]
        why = f"new variable, {v['status']}"
        if v["status"] != "flows":
            why += f": {_status_why(v)}"
        if n in renamed_from:
            why += f" (renamed from {renamed_from[n]}?)"
        changes.append(Change(n, None, v["status"], "added", why))
    for n in removed:
        why = "no longer in the model"
        if n in renamed_to:
            why += f" (renamed to {renamed_to[n]}?)"
        changes.append(Change(n, b_vars[n]["status"], None, "removed", why))
    cut_changes = _cut_changes(before, after)
    keyed = [(ORDER[c.kind], order.get(c.name, len(order)), c.name) for c in changes]
    changes = [c for _, c in sorted(zip(keyed, changes), key=lambda kc: kc[0])]
    changes += sorted(cut_changes, key=lambda c: (ORDER[c.kind], c.name))
    changes.sort(key=lambda c: ORDER[c.kind])  # stable: keeps the order within a kind
    return Diff(before_name, after_name, tuple(changes), before, after)


def failing(diff: Diff, fail_on: Iterable[str]) -> tuple[Change, ...]:
    """The changes ``--fail-on KIND,...`` matches."""
    kinds = set(fail_on)
    return tuple(c for c in diff.changes if c.kind in kinds)


def check_fail_on(text: str) -> tuple[str, ...]:
    """``--fail-on`` for diff: kinds separated by commas, or ``none``.

    Raises:
        UsageError: an unknown kind.
    """
    items = tuple(s.strip() for s in text.split(",") if s.strip())
    if items == ("none",):
        return ()
    bad = [s for s in items if s not in KINDS]
    if bad or not items:
        raise UsageError(f"--fail-on: unknown change kind {', '.join(bad) or repr(text)}; "
                         f"choose from {', '.join(KINDS)}, or none")
    return items
