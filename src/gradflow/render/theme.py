"""One palette for every output: status -> colour, symbol and label.

Colour is never the only signal: each status also has a symbol and its word.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..report import Status

__all__ = ["StatusStyle", "STATUS_STYLES", "style_of", "STATUS_ORDER"]


@dataclass(frozen=True)
class StatusStyle:
    colour: str  # hex, for Graphviz and rich alike
    symbol: str
    label: str
    meaning: str


STATUS_STYLES: dict[Status, StatusStyle] = {
    Status.FLOWS: StatusStyle("#2e7d32", "✓", "flows", "receives a gradient: it learns"),
    Status.ZERO: StatusStyle("#e69500", "○", "zero", "connected, but the gradient is all zero"),
    Status.NONFINITE: StatusStyle("#ad1457", "!", "nonfinite", "the gradient holds NaN or Inf"),
    Status.BLOCKED: StatusStyle("#c62828", "✗", "blocked", "every path to the loss is cut"),
    Status.DISCONNECTED: StatusStyle("#8a8a8a", "-", "disconnected", "the loss never reads it"),
}

# Worst first: the order in which problems are listed and groups are coloured.
STATUS_ORDER = (Status.BLOCKED, Status.NONFINITE, Status.ZERO, Status.DISCONNECTED, Status.FLOWS)

CUT_COLOUR = "#c62828"
FLOW_COLOUR = "#2e7d32"
FAINT_COLOUR = "#b0b0b0"


def style_of(status: Status) -> StatusStyle:
    return STATUS_STYLES[Status(status)]
