"""The HTML report: one self-contained file, and the notebook view.

:func:`to_html` gives a whole page: the header and variable table of the
terminal report, the gradient-flow graph as inline SVG, the StopGradient
inventory, and a filter box with status toggles that narrow the table. It
loads nothing from anywhere: a Content-Security-Policy of ``default-src
'none'`` admits only the page's own inline style and script (by hash).

Every name, op, path and reason is data, never markup: it is escaped where it
lands (HTML text, attribute values, the SVG through Graphviz's own escaping
and gradflow's ``<title>`` rewrite).

:func:`notebook_html` is the same table and graph without the page around it
or any script, for ``Report._repr_html_``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import RenderError
from ..report import NO_NUMERIC_CHECK, SCHEMA, Status
from .text import visible
from .theme import STATUS_FONT_COLOURS, STATUS_ORDER, STATUS_STYLES, style_of

if TYPE_CHECKING:
    from ..report import Report, VariableReport
    from .dot import Drawing
    from .files import GraphOptions

__all__ = ["to_html", "notebook_html", "html_document", "CSP"]

# Shown in the table in this order (the terminal's order: best first).
_TABLE_ORDER = STATUS_ORDER[::-1]


def esc(text: Any) -> str:
    """Text (or an attribute value) as HTML: data, never markup."""
    return html.escape(visible(text, newlines=True), quote=True)


def _shape(shape: Any) -> str:
    if shape is None:
        return "?"
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def _norm(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _status_css() -> str:
    rules = []
    for status, st in STATUS_STYLES.items():
        rules.append(f".gf-s-{status.value}{{background:{st.colour};color:{STATUS_FONT_COLOURS[status]}}}")
    return "\n".join(rules)


_CSS = """
.gf-report{font:14px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1a1a1a;max-width:1400px}
.gf-report h1{font-size:22px;margin:0 0 4px}
.gf-report .gf-light{font-weight:normal}
.gf-report h2{font-size:16px;margin:22px 0 8px;border-bottom:1px solid #e0e0e0;padding-bottom:3px}
.gf-report .gf-meta{color:#555;margin:2px 0}
.gf-report .gf-meta code{background:#f4f4f4;padding:0 3px;border-radius:3px}
.gf-report .gf-headline{font-weight:600;margin:8px 0 4px}
.gf-report .gf-pill{display:inline-block;border-radius:10px;padding:0 8px;margin-right:4px;font-size:12px;font-weight:600}
.gf-report table{border-collapse:collapse;font-size:13px}
.gf-report th,.gf-report td{text-align:left;padding:3px 10px 3px 0;border-bottom:1px solid #eee;vertical-align:top}
.gf-report th{border-bottom:2px solid #ccc}
.gf-report td.gf-num{text-align:right;font-variant-numeric:tabular-nums}
.gf-report td.gf-name{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.gf-report .gf-status{white-space:nowrap}
.gf-report .gf-note{color:#8a5a00;background:#fff8e1;border-left:3px solid #e69500;padding:4px 8px;margin:6px 0}
.gf-report .gf-controls{display:flex;flex-wrap:wrap;gap:8px 14px;align-items:center;margin:6px 0 10px}
.gf-report .gf-controls input[type=search]{min-width:260px;padding:3px 6px;font:inherit}
.gf-report .gf-controls label{white-space:nowrap;cursor:pointer}
.gf-report .gf-count{color:#666}
.gf-report .gf-graph{overflow:auto;border:1px solid #e0e0e0;border-radius:4px;max-height:85vh;background:#fff}
.gf-report .gf-graph.gf-fit svg{max-width:100%;height:auto}
.gf-report .gf-graph svg .gf-dim{opacity:.25}
.gf-report .gf-graph svg .gf-hl polygon,.gf-report .gf-graph svg .gf-hl path,.gf-report .gf-graph svg .gf-hl ellipse{stroke:#1565c0;stroke-width:4}
.gf-report tr[hidden]{display:none}
.gf-report tbody tr.gf-linked{cursor:pointer}
.gf-report tbody tr.gf-linked:hover{background:#f5f9ff}
.gf-report footer{color:#888;font-size:12px;margin-top:24px}
"""

_SCRIPT = """
(function () {
  "use strict";
  var root = document.getElementById("gf-report");
  var rows = Array.prototype.slice.call(root.querySelectorAll("#gf-variables tbody tr"));
  var box = document.getElementById("gf-filter");
  var toggles = Array.prototype.slice.call(root.querySelectorAll("input[data-status]"));
  var count = document.getElementById("gf-count");
  var fit = document.getElementById("gf-fit");
  var graph = document.getElementById("gf-graph");
  function apply() {
    var q = box.value.trim().toLowerCase();
    var on = {};
    toggles.forEach(function (t) { on[t.getAttribute("data-status")] = t.checked; });
    var shown = 0, visibleNodes = {}, allNodes = {};
    rows.forEach(function (r) {
      var ok = on[r.getAttribute("data-status")] === true &&
               (q === "" || r.getAttribute("data-search").indexOf(q) !== -1);
      r.hidden = !ok;
      if (ok) { shown += 1; }
      var node = r.getAttribute("data-node");
      if (node) { allNodes[node] = true; if (ok) { visibleNodes[node] = true; } }
    });
    Object.keys(allNodes).forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.classList.toggle("gf-dim", !visibleNodes[id]); }
    });
    count.textContent = shown + " of " + rows.length + " variables shown";
  }
  box.addEventListener("input", apply);
  toggles.forEach(function (t) { t.addEventListener("change", apply); });
  if (fit && graph) {
    fit.addEventListener("change", function () { graph.classList.toggle("gf-fit", fit.checked); });
  }
  rows.forEach(function (r) {
    var id = r.getAttribute("data-node");
    var el = id && document.getElementById(id);
    if (!el) { return; }
    r.classList.add("gf-linked");
    r.addEventListener("click", function () {
      root.querySelectorAll(".gf-hl").forEach(function (x) { x.classList.remove("gf-hl"); });
      el.classList.add("gf-hl");
      el.scrollIntoView({block: "center", inline: "center"});
    });
  });
  apply();
})();
"""


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


CSS = _CSS + _status_css() + "\n"
CSP = (f"default-src 'none'; style-src {_sha256(CSS)}; script-src {_sha256(_SCRIPT)}; "
       "img-src data:; font-src 'none'; connect-src 'none'; form-action 'none'; base-uri 'none'")

_XML_PROLOG = re.compile(r"\A\s*<\?xml[^>]*\?>\s*(<!DOCTYPE[^>]*>\s*)?", re.DOTALL)


def inline_svg(svg: str) -> str:
    """SVG text ready to sit inside an HTML page (no XML prolog or DOCTYPE)."""
    return _XML_PROLOG.sub("", svg).strip()


# -- pieces --------------------------------------------------------------------
def _status_cell(status: Status) -> str:
    st = style_of(status)
    return f'<span class="gf-pill gf-s-{status.value}">{esc(st.symbol)} {esc(st.label)}</span>'


def _header(report: "Report", *, heading: str = "h1") -> str:
    parts = [f'<{heading}>gradflow <span class="gf-light">· {esc(report.target)}</span></{heading}>']
    meta = []
    if report.source:
        meta.append(f"file <code>{esc(report.source)}</code>")
    meta.append(f"target <code>{esc(report.target)}</code> ({esc(report.kind)})")
    parts.append(f'<p class="gf-meta">{" · ".join(meta)}</p>')
    if report.inputs:
        parts.append(f'<p class="gf-meta">inputs: {esc(report.inputs)}</p>')
    parts.append(f'<p class="gf-headline">{esc(report.headline())}</p>')
    pills = [f'<span class="gf-pill gf-s-{s.value}">{report.summary[s.value]} {esc(style_of(s).label)}</span>'
             for s in _TABLE_ORDER if report.summary[s.value]]
    parts.append(f'<p class="gf-summary">{"".join(pills)}</p>')
    for note in report.notes:
        parts.append(f'<p class="gf-note">note: {esc(note)}</p>')
    if not report.numeric:
        parts.append(f'<p class="gf-note">{esc(NO_NUMERIC_CHECK)}</p>')
    return "\n".join(parts)


def _variable_rows(report: "Report", variable_ids: dict[str, str]) -> str:
    rows = []
    for v in report.variables:
        search = " ".join([v.name, v.status.value, v.why, "trainable" if v.trainable else "not trainable",
                           " ".join(b.op + " " + b.type for b in v.blockers)]).lower()
        node = variable_ids.get(v.name, "")
        rows.append(
            f'<tr data-status="{esc(v.status.value)}" data-search="{esc(search)}" data-node="{esc(node)}">'
            f'<td class="gf-name">{esc(v.name)}</td>'
            f"<td>{esc(_shape(v.shape))}</td>"
            f"<td>{esc(v.dtype)}</td>"
            f'<td>{"yes" if v.trainable else "no"}</td>'
            f'<td class="gf-status">{_status_cell(v.status)}</td>'
            f'<td class="gf-num">{esc(_norm(v.grad_norm))}</td>'
            f"<td>{esc(v.why)}</td></tr>"
        )
    return "\n".join(rows)


def _variable_table(report: "Report", variable_ids: dict[str, str]) -> str:
    return (
        '<table id="gf-variables"><thead><tr><th>variable</th><th>shape</th><th>dtype</th><th>trainable</th>'
        '<th>status</th><th>grad norm</th><th>why</th></tr></thead>\n<tbody>\n'
        + _variable_rows(report, variable_ids)
        + "\n</tbody></table>"
    )


def _controls(report: "Report") -> str:
    toggles = []
    for s in _TABLE_ORDER:
        n = report.summary[s.value]
        st = style_of(s)
        toggles.append(
            f'<label><input type="checkbox" data-status="{s.value}" checked> '
            f'<span class="gf-pill gf-s-{s.value}">{esc(st.symbol)} {esc(st.label)}</span> ({n})</label>'
        )
    return (
        '<div class="gf-controls">'
        '<input id="gf-filter" type="search" placeholder="filter: name, status, reason..." '
        'aria-label="filter variables" autocomplete="off">'
        + "".join(toggles)
        + f'<span id="gf-count" class="gf-count">{len(report.variables)} of {len(report.variables)} '
        "variables shown</span></div>"
    )


def _stop_gradients(report: "Report") -> str:
    if not report.stop_gradients:
        return "<p>No tf.stop_gradient in the traced graph.</p>"
    rows = []
    for sg in report.stop_gradients:
        shields = ", ".join(sg.shields) if sg.shields else "(no variable entirely)"
        rows.append(f'<tr><td class="gf-name">{esc(sg.op)}</td>'
                    f'<td>{esc(sg.location) if sg.location else "-"}</td><td>{esc(shields)}</td></tr>')
    return ('<table id="gf-stop-gradients"><thead><tr><th>StopGradient op</th><th>location</th>'
            "<th>shields (every path cut)</th></tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody></table>")


def _graph_section(svg: str, drawing: "Drawing | None", *, controls: bool) -> str:
    parts = []
    if drawing is not None and drawing.note:
        parts.append(f'<p class="gf-note">{esc(drawing.note)}.</p>')
    if controls:
        parts.append('<div class="gf-controls"><label><input id="gf-fit" type="checkbox" checked> '
                     "fit to width</label><span class=\"gf-count\">hover a node for its op, dtype, shape, "
                     "source line and status; click a table row to find its variable</span></div>")
    parts.append(f'<div id="gf-graph" class="gf-graph gf-fit">\n{inline_svg(svg)}\n</div>')
    return "\n".join(parts)


# -- documents -----------------------------------------------------------------
def html_document(report: "Report", *, svg: str, drawing: "Drawing | None",
                  options: "GraphOptions | None" = None) -> str:
    """The whole self-contained page, from an SVG already rendered."""
    variable_ids = drawing.variable_ids if drawing is not None else {}
    title = f"gradflow: {report.target}" + (f" in {report.source}" if report.source else "")
    body = "\n".join([
        '<main id="gf-report" class="gf-report">',
        "<header>", _header(report), "</header>",
        '<section id="gf-variables-section"><h2>Variables</h2>',
        _controls(report), _variable_table(report, variable_ids), "</section>",
        '<section id="gf-graph-section"><h2>Gradient-flow graph</h2>',
        _graph_section(svg, drawing, controls=True), "</section>",
        '<section id="gf-stop-gradient-section"><h2>StopGradient inventory</h2>',
        _stop_gradients(report), "</section>",
        f"<footer>gradflow {esc(__version__)} · {esc(SCHEMA)}</footer>",
        "</main>",
    ])
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n{body}\n"
        f"<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )


def to_html(report: "Report", *, options: "GraphOptions | None" = None) -> str:
    """The self-contained HTML report of ``report``.

    Args:
        report: the report.
        options: how to draw the graph (:class:`~gradflow.render.files.GraphOptions`).

    Returns:
        One HTML document that needs no network: style, script and SVG are inline.

    Raises:
        RenderError: Graphviz's ``dot`` is missing or too slow.
    """
    from .files import GraphOptions, svg_and_drawing

    options = options or GraphOptions()
    drawing, svg = svg_and_drawing(report, options)
    return html_document(report, svg=svg, drawing=drawing, options=options)


def notebook_html(report: "Report") -> str:
    """Table and graph for a Jupyter cell (``Report._repr_html_``); no script.

    When Graphviz's ``dot`` is missing the table still shows, with a note saying
    what to install.
    """
    from .files import GraphOptions, svg_and_drawing

    try:
        drawing, svg = svg_and_drawing(report, GraphOptions())
        graph = _graph_section(svg, drawing, controls=False)
    except RenderError as exc:
        drawing, graph = None, f'<p class="gf-note">no graph: {esc(exc)}</p>'
    variable_ids = drawing.variable_ids if drawing is not None else {}
    return "\n".join([
        f"<style>{CSS}</style>",
        '<div class="gf-report">',
        _header(report, heading="h3"),
        _variable_table(report, variable_ids),
        graph,
        "</div>",
    ])
