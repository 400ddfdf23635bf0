"""The legend drawn beside every gradient-flow graph: one sample of each status, node kind and edge class.

The samples take their styles from :mod:`gradflow.render.theme`, as the graph's
own nodes do.
"""

from __future__ import annotations

import graphviz

from ..schema import Status
from .dotsyntax import esc_string, html_label, html_text, svg_id
from .theme import CLUSTER_COLOUR, CLUSTER_TEXT_COLOUR, CUT_COLOUR, FORWARD_COLOUR, node_style, style_of, variable_style
from .view import BEHIND, FLOW, FORWARD

__all__ = ["add_legend"]


def add_legend(dot: graphviz.Digraph, titles: dict[str, str]) -> None:
    """Draw the legend as a cluster of ``dot``; each sample's tooltip goes into ``titles`` (SVG id -> text)."""
    with dot.subgraph(name="cluster__legend") as c:
        c.attr(label=html_label("<B>legend</B>"), style="rounded", color=CLUSTER_COLOUR,
               fontcolor=CLUSTER_TEXT_COLOUR, fontsize="10", labeljust="l", margin="8")
        c.attr("node", fontsize="9", height="0.25", margin="0.06,0.02")
        c.attr("edge", arrowsize="0.6")
        rows: list[list[tuple[str, dict]]] = [[], [], [], []]
        for status in (Status.FLOWS, Status.ZERO, Status.NONFINITE, Status.BLOCKED, Status.DISCONNECTED):
            st = style_of(status)
            rows[0].append((f"_legend/{status.value}", {
                **variable_style(status, True), "penwidth": "1.2",
                "label": html_label(html_text(f"{st.symbol} {st.label}")),
                "tooltip": esc_string([f"variable: {st.label}: {st.meaning}"])}))
        rows[1] += [
            ("_legend/untrainable", {
                **variable_style(Status.FLOWS, False),
                "label": html_label("not trainable"), "tooltip": esc_string(["a variable that is not trainable"])}),
            ("_legend/grad", {
                **node_style("grad", style_of(Status.FLOWS).colour), "label": html_label("op on a gradient path"),
                "tooltip": esc_string(["an op the gradient flows through"])}),
            ("_legend/forward", {
                **node_style("forward"), "fontsize": "9", "label": html_label("forward value only"),
                "tooltip": esc_string(["an op whose gradient never reaches a variable"])}),
            ("_legend/loss", {
                **node_style("loss"), "label": html_label("<B>loss</B>"), "margin": "0.01", "fontsize": "8",
                "tooltip": esc_string(["the loss"])}),
        ]
        rows[2] += [
            ("_legend/stop_gradient", {
                **node_style("stop_gradient"), "label": html_label("<B>StopGradient</B>"),
                "tooltip": esc_string(["tf.stop_gradient: the gradient stops here"])}),
            ("_legend/cut", {
                **node_style("cut"), "label": html_label("✗ <B>other cut</B>: reason"),
                "tooltip": esc_string(["ArgMax, Round, an integer Cast, numpy_function, a custom "
                                       "gradient returning None..."])}),
            ("_legend/quiet_cut", {
                **node_style("quiet_cut"), "label": html_label("cut by design"),
                "tooltip": esc_string(["library internals (BatchNorm moments, Dropout's RNG) or a cut only "
                                       "non-trainable variables reach: expected, never red"])}),
            ("_legend/group", {
                "shape": "box3d", "style": "filled", "fillcolor": style_of(Status.FLOWS).colour,
                "color": style_of(Status.FLOWS).colour, "fontcolor": "white",
                "label": html_label("collapsed scope"),
                "tooltip": esc_string(["a collapsed name scope, coloured by the worst status inside"])}),
        ]
        # Edge samples: "• ──> words", drawn left to right within one rank.
        samples = [(FLOW, "gradient flows", {"color": style_of(Status.FLOWS).colour, "penwidth": "2.6"}),
                   (BEHIND, "behind a cut", {"color": CUT_COLOUR, "style": "dashed", "penwidth": "1.8"}),
                   (FORWARD, "forward only", {"color": FORWARD_COLOUR, "penwidth": "1.1"})]
        sample_edges = []
        for cls, text, attrs in samples:
            a, b = f"_legend/e_{cls}_a", f"_legend/e_{cls}_b"
            rows[3].append((a, {"shape": "point", "width": "0.06", "color": attrs["color"],
                                "tooltip": esc_string([text])}))
            rows[3].append((b, {"shape": "plaintext", "label": html_label(html_text(text)), "height": "0.2",
                                "tooltip": esc_string([text])}))
            sample_edges.append((a, b, text, attrs))
        visible = {(a, b) for a, b, _, _ in sample_edges}
        for r, row in enumerate(rows):
            with c.subgraph(name=f"_legend_row{r}") as rank:
                rank.attr(rank="same")
                for nid, attrs in row:
                    attrs = dict(attrs)
                    attrs["id"] = svg_id("l", nid)
                    titles[attrs["id"]] = str(attrs["tooltip"]).replace("\\n", "\n")
                    rank.node(nid, **attrs)
            for (a, _), (b, _) in zip(row, row[1:]):
                if (a, b) not in visible:
                    c.edge(a, b, style="invis")
        for a, b, text, attrs in sample_edges:
            eid = svg_id("l", a + "->" + b)
            titles[eid] = text
            c.edge(a, b, id=eid, tooltip=esc_string([text]), minlen="2", **attrs)
        for upper, lower in zip(rows, rows[1:]):
            c.edge(upper[0][0], lower[0][0], style="invis")
