"""``--focus NAME``: which variables a name means, and the graph node that shows each.

Reads the report and its analysis graph; never imports TensorFlow.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from ..report import Report
    from ..schema import VariableReport

__all__ = ["resolve_focus", "variable_node"]


def resolve_focus(report: "Report", name: str) -> list["VariableReport"]:
    """The variables ``--focus NAME`` means: one variable, or every variable in a scope.

    A scope matches by variable-name prefix (``dense_1`` for ``dense_1/kernel``)
    or by the name scope of the variable's op in the traced graph.

    Raises:
        UsageError: nothing matches; the message lists close names.
    """
    variables = list(report.variables)
    exact = [v for v in variables if v.name == name]
    if exact:
        return exact
    stem = name.rstrip("/")
    by_name = [v for v in variables if v.name.startswith(stem + "/")]
    if by_name:
        return by_name
    G = report.flow.G if report.flow is not None else None
    by_scope = []
    if G is not None and stem:
        for v in variables:
            node = variable_node(report, v)
            scope = G.nodes[node].get("scope", "") if node is not None else ""
            if scope == stem or scope.startswith(stem + "/") or f"/{stem}/" in f"/{scope}/":
                by_scope.append(v)
    if by_scope:
        return by_scope
    candidates = set()
    for v in variables:
        candidates.add(v.name)
        parts = v.name.split("/")
        candidates.update("/".join(parts[:i]) for i in range(1, len(parts)))
    close = difflib.get_close_matches(name, sorted(candidates), n=6, cutoff=0.5)
    hint = f" Close names: {', '.join(close)}." if close else ""
    some = ", ".join(v.name for v in variables[:8]) + (", ..." if len(variables) > 8 else "")
    raise UsageError(
        f"--focus {name}: no variable or scope of that name.{hint} "
        f"Variables: {some or '(none)'}."
    )


def variable_node(report: "Report", v: "VariableReport") -> str | None:
    """The analysis-graph node of variable ``v``, or None when the graph has none for it."""
    node = v.node
    if node is None and report.flow is not None:
        node = report.flow.variables.get(v.name)
    if node is not None and report.flow is not None and node in report.flow.G:
        return node
    return None
