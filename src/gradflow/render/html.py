"""The HTML report: one self-contained file, and the notebook view, from an SVG already drawn.

:func:`html_document` gives a whole page (:func:`gradflow.render.files.to_html`
draws the graph and calls it): the header and variable table of the
terminal report, the gradient-flow graph as inline SVG, the StopGradient
inventory, and a filter box with status toggles that narrow the table. It
loads nothing from anywhere: a Content-Security-Policy of ``default-src
'none'`` admits only the page's own inline style and script (by hash).

Every name, op, path and reason is data, never markup: it is escaped where it
lands (HTML text, attribute values, the SVG through Graphviz's own escaping
and gradflow's ``<title>`` rewrite).

:func:`notebook_document` is the same table and graph without the page around it
or any script, for ``Report._repr_html_`` (through :func:`gradflow.render.files.notebook_html`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from typing import TYPE_CHECKING, Any, Sequence

from ..schema import NO_NUMERIC_CHECK, SCHEMA, Status, shape_text
from ..version import __version__
from .overview import decisive_blocker, layer_of, overview, param_count
from .text import visible
from .theme import STATUS_FONT_COLOURS, STATUS_ORDER, STATUS_STYLES, style_of

if TYPE_CHECKING:
    from ..report import Report
    from .dot import Drawing
    from .files import GraphOptions

__all__ = ["html_document", "notebook_document", "run_page", "CSP", "CSS", "csp_hash"]

# Shown in the table in this order (the terminal's order: best first).
_TABLE_ORDER = STATUS_ORDER[::-1]
_STATUS_RANK = {s: i for i, s in enumerate(STATUS_ORDER)}  # sorting by status: worst first


def esc(text: Any) -> str:
    """Text (or an attribute value) as HTML: data, never markup."""
    return html.escape(visible(text, newlines=True), quote=True)


def _shape(shape: Any) -> str:
    return shape_text(shape)


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
.gf-report .gf-verdict{font-size:17px;font-weight:700;margin:10px 0 6px}
.gf-report .gf-verdict.gf-ok{color:#2e7d32}
.gf-report .gf-verdict.gf-bad{color:#c62828}
.gf-report .gf-problems li{margin:4px 0}
.gf-report .gf-fix{color:#444;margin-left:1.2em}
.gf-report .gf-expected{color:#666}
.gf-report th[data-sort]{cursor:pointer;user-select:none}
.gf-report th[data-sort]::after{content:" ↑↓";color:#aaa;font-weight:normal;font-size:11px}
.gf-report th[aria-sort=ascending]::after{content:" ↑";color:inherit}
.gf-report th[aria-sort=descending]::after{content:" ↓";color:inherit}
.gf-report details>summary{cursor:pointer;font-weight:600;margin:8px 0}
@media (prefers-color-scheme: dark){
body{background:#121212;color:#e0e0e0}
.gf-report{color:#e0e0e0}
.gf-report h2{border-bottom-color:#333}
.gf-report .gf-meta{color:#aaa}
.gf-report .gf-meta code{background:#2a2a2a}
.gf-report th,.gf-report td{border-bottom-color:#2c2c2c}
.gf-report th{border-bottom-color:#555}
.gf-report .gf-note{color:#ffd180;background:#2b2410}
.gf-report .gf-count,.gf-report .gf-expected,.gf-report .gf-fix{color:#aaa}
.gf-report tbody tr.gf-linked:hover{background:#1e2a3a}
.gf-report .gf-verdict.gf-ok{color:#81c784}
.gf-report .gf-verdict.gf-bad{color:#ef9a9a}
.gf-report .gf-graph{border-color:#333}
.gf-report input[type=search]{background:#1e1e1e;color:#e0e0e0;border:1px solid #444}
.gf-report a{color:#90caf9}
}
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
  var table = document.getElementById("gf-variables");
  Array.prototype.slice.call(table.querySelectorAll("th[data-sort]")).forEach(function (th, col) {
    th.addEventListener("click", function () {
      var index = Array.prototype.indexOf.call(th.parentNode.children, th);
      var down = th.getAttribute("aria-sort") === "ascending";
      table.querySelectorAll("th[data-sort]").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", down ? "descending" : "ascending");
      var numeric = th.getAttribute("data-sort") === "number";
      function key(r) {
        var c = r.cells[index];
        var v = c.hasAttribute("data-value") ? c.getAttribute("data-value") : c.textContent;
        if (numeric) { var f = parseFloat(v); return isNaN(f) ? -Infinity : f; }
        return v.toLowerCase();
      }
      var body = table.tBodies[0];
      var sorted = rows.slice().sort(function (a, b) {
        var x = key(a), y = key(b);
        var c = x < y ? -1 : x > y ? 1 : 0;
        if (c === 0) { c = rows.indexOf(a) - rows.indexOf(b); return c; }
        return down ? -c : c;
      });
      sorted.forEach(function (r) { body.appendChild(r); });
    });
  });
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


def csp_hash(text: str) -> str:
    """The Content-Security-Policy source (``'sha256-...'``) that allows this inline style or script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


CSS = _CSS + _status_css() + "\n"
CSP = (f"default-src 'none'; style-src {csp_hash(CSS)}; script-src {csp_hash(_SCRIPT)}; "
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
    parts.append(problems_html(report))
    pills = [f'<span class="gf-pill gf-s-{s.value}">{report.summary[s.value]} {esc(style_of(s).label)}</span>'
             for s in _TABLE_ORDER if report.summary[s.value]]
    parts.append(f'<p class="gf-summary">{"".join(pills)}</p>')
    for note in report.notes:
        parts.append(f'<p class="gf-note">note: {esc(note)}</p>')
    if not report.numeric:
        parts.append(f'<p class="gf-note">{esc(NO_NUMERIC_CHECK)}</p>')
    return "\n".join(parts)


def problems_html(report: "Report") -> str:
    """Problems first: the verdict, the loss, the variables that do not learn with their cut and fix,
    the cuts the user wrote, and one line counting what is expected."""
    ov = overview(report)
    cls = "gf-ok" if ov.healthy else "gf-bad"
    mark = "✓" if ov.healthy else "✗"
    parts = [f'<p class="gf-verdict gf-headline {cls}">{mark} {esc(ov.headline)}</p>']
    items = []
    if ov.loss_problem:
        items.append(f"<li>{esc(ov.loss_problem)}</li>")
    for v in ov.problems[:40]:
        b = decisive_blocker(v)
        cut = f" · {esc(b.type)} at {esc(b.where())}" if b is not None else ""
        fix = f'<div class="gf-fix">fix: {esc(b.fix)}</div>' if b is not None and b.fix else ""
        items.append(f'<li>{_status_cell(v.status)} <code>{esc(v.name)}</code>{cut} · {esc(v.why)}{fix}</li>')
    if len(ov.problems) > 40:
        items.append(f"<li>... and {len(ov.problems) - 40} more (filter the table by status)</li>")
    for sg in ov.user_cuts:
        where = f"tf.stop_gradient at {sg.location}" if sg.location else sg.op
        shields = ", ".join(sg.shields)
        items.append(f"<li>cut you wrote: {esc(where)}" + (f" · every path of {esc(shields)}" if shields else "")
                     + "</li>")
    if items:
        parts.append('<ul class="gf-problems">' + "".join(items) + "</ul>")
    if ov.expected_line:
        parts.append(f'<p class="gf-expected">expected: {esc(ov.expected_line)}</p>')
    return "\n".join(parts)


def _variable_rows(report: "Report", variable_ids: dict[str, str]) -> str:
    rows = []
    for v in report.variables:
        # Its own name, layer, status and cuts: never the names of other layers' ops.
        cuts = sorted({f"{b.type} {b.reason} {b.location or ''}" for b in v.blockers})
        search = " ".join([v.name, v.layer or "", v.layer_class or "", v.status.value,
                           "trainable" if v.trainable else "not trainable"] + cuts).lower()
        node = variable_ids.get(v.name, "")
        b = decisive_blocker(v) if v.trainable and v.status is not Status.FLOWS else None
        fix = b.fix if b is not None else ""
        norm = "" if v.grad_norm is None else repr(float(v.grad_norm))
        fix_html = f'<div class="gf-fix">fix: {esc(fix)}</div>' if fix else ""
        rows.append(
            f'<tr data-status="{esc(v.status.value)}" data-search="{esc(search)}" data-node="{esc(node)}">'
            f'<td class="gf-name">{esc(v.name)}</td>'
            f"<td>{esc(layer_of(v))}</td>"
            f"<td>{esc(v.layer_class or '')}</td>"
            f'<td data-value="{param_count(v)}">{esc(_shape(v.shape))}</td>'
            f"<td>{esc(v.dtype)}</td>"
            f'<td>{"yes" if v.trainable else "no"}</td>'
            f'<td class="gf-status" data-value="{_STATUS_RANK[v.status]}">{_status_cell(v.status)}</td>'
            f'<td class="gf-num" data-value="{norm}">{esc(_norm(v.grad_norm))}</td>'
            f"<td>{esc(v.why)}{fix_html}</td></tr>"
        )
    return "\n".join(rows)


def _variable_table(report: "Report", variable_ids: dict[str, str]) -> str:
    return (
        '<table id="gf-variables"><thead><tr><th data-sort="text">variable</th><th data-sort="text">layer</th>'
        '<th data-sort="text">class</th><th data-sort="number" title="sorts by parameter count">shape</th>'
        '<th data-sort="text">dtype</th><th data-sort="text">trainable</th><th data-sort="number">status</th>'
        '<th data-sort="number">grad norm</th><th>why</th></tr></thead>\n<tbody>\n'
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


def notebook_document(report: "Report", *, svg: str | None, drawing: "Drawing | None",
                      graph_error: str = "") -> str:
    """Table and graph for a Jupyter cell, from an SVG already rendered (or why there is none)."""
    if svg is None:
        graph = f'<p class="gf-note">no graph: {esc(graph_error)}</p>'
    else:
        graph = _graph_section(svg, drawing, controls=False)
    variable_ids = drawing.variable_ids if drawing is not None else {}
    return "\n".join([
        f"<style>{CSS}</style>",
        '<div class="gf-report">',
        _header(report, heading="h3"),
        f"<details><summary>{len(report.variables)} variables</summary>",
        _variable_table(report, variable_ids), "</details>",
        "<details><summary>gradient-flow graph</summary>", graph, "</details>",
        "</div>",
    ])


def run_page(script: str, sites: "Sequence[Any]", schema: str, graphs: "Sequence[tuple[Any, str] | None]") -> str:
    """``gradflow run --html``: one self-contained page with every gradient site's report.

    Args:
        script: the script's path, as the user gave it.
        sites: the :class:`~gradflow.intercept.SiteReport` of each site, in the order they were met.
        schema: the run JSON's schema name, for the footer.
        graphs: per site, its drawing and SVG (:func:`gradflow.render.files.svg_and_drawing`), or None.
    """
    sections = []
    for n, (item, graph) in enumerate(zip(sites, graphs), 1):
        sections.append("\n".join([
            f'<section class="gf-site" id="site-{n}"><h2>{esc(item.site.heading())}</h2>',
            _header(item.report, heading="h3"),
            _variable_table(item.report, {}),
            "<h3>StopGradient inventory</h3>", _stop_gradients(item.report),
            _graph_section(graph[1], graph[0], controls=False) if graph is not None else "", "</section>",
        ]))
    body = "\n".join(['<main id="gf-report" class="gf-report">',
                      f"<header><h1>gradflow run <span class=\"gf-light\">· {esc(script)}</span></h1>",
                      f'<p class="gf-meta">{len(sites)} gradient site(s)</p></header>',
                      *sections,
                      f"<footer>gradflow {esc(__version__)} · {schema}</footer>", "</main>"])
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{esc(CSP)}\">\n"
            f"<title>gradflow run: {esc(script)}</title>\n<style>{CSS}</style>\n</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n")
