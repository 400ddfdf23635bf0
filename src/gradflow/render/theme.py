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


# -- Graphviz (render/dot.py and the HTML report) ----------------------------
# Fills for variables that are not trainable: a pale tint of the status colour,
# outlined dashed in the full colour, so that they read as "secondary".
STATUS_TINTS: dict[Status, str] = {
    Status.FLOWS: "#dcedc8",
    Status.ZERO: "#ffe9b3",
    Status.NONFINITE: "#f8bbd0",
    Status.BLOCKED: "#ffcdd2",
    Status.DISCONNECTED: "#e6e6e6",
}
# Text on a fill of the full status colour.
STATUS_FONT_COLOURS: dict[Status, str] = {
    Status.FLOWS: "#ffffff",
    Status.ZERO: "#1a1a1a",
    Status.NONFINITE: "#ffffff",
    Status.BLOCKED: "#ffffff",
    Status.DISCONNECTED: "#ffffff",
}
LOSS_COLOUR = "#263238"  # the loss node: dark slate, the sink every strong path ends in
CUT_TINT = "#ffebee"  # fill of a cut other than StopGradient
FORWARD_COLOUR = "#8d8d8d"  # on a variable->loss path, but carries forward values only
TEXT_COLOUR = "#1a1a1a"
FAINT_TEXT_COLOUR = "#8a8a8a"
CLUSTER_COLOUR = "#b0bec5"
CLUSTER_TEXT_COLOUR = "#546e7a"
GRAPH_FONT = "Helvetica,Arial,sans-serif"


# -- node styles: one definition for the graph's nodes and its legend alike ----
def node_style(kind: str, colour: str | None = None) -> dict[str, str]:
    """The Graphviz attributes of an op node of ``kind`` (``colour``: a gradient path's, for ``grad``).

    Kinds: ``loss``, ``stop_gradient``, ``cut``, ``quiet_cut`` (a cut by design:
    library internals), ``grad``, ``input``, ``forward``, ``faint``.
    """
    styles = {
        "loss": {"shape": "doublecircle", "style": "filled", "fillcolor": LOSS_COLOUR, "color": LOSS_COLOUR,
                 "fontcolor": "white"},
        "stop_gradient": {"shape": "octagon", "style": "filled", "fillcolor": CUT_COLOUR, "color": CUT_COLOUR,
                          "fontcolor": "white", "penwidth": "2"},
        "cut": {"shape": "box", "style": "filled,diagonals", "fillcolor": CUT_TINT, "color": CUT_COLOUR,
                "fontcolor": CUT_COLOUR, "penwidth": "2"},
        "quiet_cut": {"shape": "box", "style": "filled,rounded", "fillcolor": "white", "color": FAINT_COLOUR,
                      "fontcolor": FAINT_TEXT_COLOUR, "fontsize": "9"},
        "grad": {"shape": "ellipse", "style": "filled", "fillcolor": "white", "color": colour or FLOW_COLOUR,
                 "penwidth": "2", "fontcolor": TEXT_COLOUR},
        "input": {"shape": "parallelogram", "style": "filled", "fillcolor": "white", "color": FORWARD_COLOUR,
                  "fontcolor": FORWARD_COLOUR},
        "forward": {"shape": "ellipse", "style": "filled", "fillcolor": "white", "color": FORWARD_COLOUR,
                    "fontcolor": FAINT_TEXT_COLOUR, "fontsize": "10"},
        "faint": {"shape": "ellipse", "style": "filled", "fillcolor": "white", "color": FAINT_COLOUR,
                  "fontcolor": FAINT_COLOUR, "fontsize": "9"},
    }
    return dict(styles[kind])


def variable_style(status: Status, trainable: bool) -> dict[str, str]:
    """A variable's box: filled by status when trainable; pale and dashed when not.

    A variable that is not trainable and does not learn is by design: grey, never red.
    """
    status = Status(status)
    if not trainable and status is not Status.FLOWS:
        status = Status.DISCONNECTED
    st = style_of(status)
    if trainable:
        return {"shape": "box", "style": "rounded,filled", "fillcolor": st.colour, "color": st.colour,
                "fontcolor": STATUS_FONT_COLOURS[status], "penwidth": "1.5"}
    return {"shape": "box", "style": "rounded,filled,dashed", "fillcolor": STATUS_TINTS[status], "color": st.colour,
            "fontcolor": TEXT_COLOUR, "penwidth": "2"}
