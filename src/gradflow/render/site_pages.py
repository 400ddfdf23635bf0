"""The pages of a ``gradflow docs`` site: a model's Markdown page, error pages, the index.

A model's HTML page is :func:`gradflow.render.files.to_html` with a link back to
the index. Every user string is escaped (HTML) or escaped and code-spanned
(Markdown, inert under CommonMark), as in every other output.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Sequence

from ..schema import PROBLEM_WORDS, shape_text
from .overview import decisive_blocker, overview
from .text import html_text as _esc
from .text import markdown_code, markdown_text, visible

if TYPE_CHECKING:
    from ..site import PageResult

__all__ = ["BACK_LINK", "model_markdown", "error_page", "error_markdown", "index_html", "index_markdown"]

PROBLEM_STATUSES = PROBLEM_WORDS
STATUSES = ("flows",) + PROBLEM_STATUSES
BACK_LINK = '<p class="gf-meta"><a href="index.html">&larr; all models</a></p>'


def _markdown_problems(report, cell, code) -> list[str]:
    """Problems first: the loss, the variables that do not learn with their cut and fix, the cuts the
    user wrote, and one line counting what is expected."""
    ov = overview(report)
    lines = []
    if ov.loss_problem:
        lines.append(f"- {cell(ov.loss_problem)}")
    for v in ov.problems[:40]:
        b = decisive_blocker(v)
        cut = f" · {cell(b.type)} at {code(b.where())}" if b is not None else ""
        fix = f" · fix: {cell(b.fix)}" if b is not None and b.fix else ""
        lines.append(f"- {code(v.name)}: {cell(v.status.value)}{cut} · {cell(v.why)}{fix}")
    for sg in ov.user_cuts:
        shields = ", ".join(code(n) for n in sg.shields)
        lines.append(f"- cut you wrote: tf.stop_gradient at {code(sg.location or sg.op)}"
                     + (f" · every path of {shields}" if shields else ""))
    if lines:
        lines.append("")
    if ov.expected_line:
        lines += [f"expected: {cell(ov.expected_line)}", ""]
    return lines


def model_markdown(report, svg_name: str) -> str:
    """One model's Markdown page. Every user string is escaped or code-spanned (inert under CommonMark)."""
    cell, code = markdown_text, (lambda t: markdown_code(t, table=True))
    lines = [f"# {markdown_text(report.target)} in {markdown_code(report.source)}", "",
             f"target {markdown_code(report.target)} ({markdown_text(report.kind)}); "
             f"inputs: {markdown_text(report.inputs)}", "",
             f"**{markdown_text(overview(report).headline)}**", ""]
    lines += _markdown_problems(report, cell, code)
    lines += [" · ".join(f"{k}: {n}" for k, n in report.summary.items() if n), ""]
    lines += [f"> note: {cell(n)}" for n in report.notes]
    lines += ["", f"![gradient-flow graph]({svg_name})", "", "## Variables", "",
              "| variable | shape | dtype | trainable | status | grad norm | why |",
              "|---|---|---|---|---|---|---|"]
    for v in report.variables:
        shape = shape_text(v.shape)
        norm = "-" if v.grad_norm is None else f"{v.grad_norm:.3g}"
        lines.append(f"| {code(v.name)} | {cell(shape)} | {cell(v.dtype)} | {'yes' if v.trainable else 'no'} | "
                     f"{cell(v.status.value)} | {cell(norm)} | {cell(v.why)} |")
    blockers = sorted({(str(b.location) if b.location else "-", b.type, b.op, b.reason)
                       for v in report.variables for b in v.blockers})
    if blockers:
        lines += ["", "## Where the gradient dies", "", "| location | op type | op | reason |", "|---|---|---|---|"]
        lines += [f"| {code(loc)} | {cell(t)} | {code(op)} | {cell(r)} |" for loc, t, op, r in blockers]
    lines += ["", "## StopGradient inventory", ""]
    if report.stop_gradients:
        lines += ["| StopGradient op | location | shields (every path cut) |", "|---|---|---|"]
        for sg in report.stop_gradients:
            shields = ", ".join(code(name) for name in sg.shields) or "(no variable entirely)"
            lines.append(f"| {code(sg.op)} | {code(sg.location or '-')} | {shields} |")
    else:
        lines.append("No tf.stop_gradient in the traced graph.")
    return "\n".join(lines) + "\n"


_INDEX_CSS = """
body{margin:16px}
.gf-report tr.gf-failed td{background:#fde2e2}
.gf-report .gf-error{color:#b00020;font-weight:600}
.gf-report pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}
.gf-report .gf-ok{color:#2e7d32;font-weight:600}
.gf-report .gf-error-pill{background:#c62828;color:#fff}
"""


def _page(title: str, body: str) -> str:
    from .html import CSS, csp_hash

    css = CSS + _INDEX_CSS
    csp = (f"default-src 'none'; style-src {csp_hash(css)}; script-src 'none'; img-src data:; "
           "form-action 'none'; base-uri 'none'")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{_esc(csp)}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_esc(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n"
            f'<main class="gf-report">\n{body}\n</main>\n</body>\n</html>\n')


def error_page(res: "PageResult") -> str:
    parts = [BACK_LINK, f"<h1>gradflow <span class=\"gf-light\">· {_esc(res.path)}</span></h1>",
             f'<p class="gf-error">{_esc(res.error_type)}: {_esc(res.error)}</p>']
    if res.user_traceback:
        parts.append(f"<pre>{_esc(res.user_traceback, newlines=True)}</pre>")
    return _page(f"gradflow: {res.path} failed", "\n".join(parts))


def error_markdown(res: "PageResult") -> str:
    text = (f"# {markdown_text(res.path)}: failed\n\n**{markdown_text(res.error_type)}**: "
            f"{markdown_text(res.error)}\n")
    if res.user_traceback:
        body = visible(res.user_traceback.rstrip(), newlines=True)
        longest = max((len(run) for run in re.findall(r"`{3,}|~{3,}", body)), default=0)
        fence = "`" * max(3, longest + 1)
        text += f"\n{fence}text\n{body}\n{fence}\n"
    return text


def _badges(res: "PageResult") -> str:
    from .theme import style_of
    from ..schema import Status

    # Only problems nobody meant: BatchNorm statistics and frozen teachers are no badge.
    pills = [f'<span class="gf-pill gf-s-{s}">{res.problems[s]} {_esc(style_of(Status(s)).label)}</span>'
             for s in PROBLEM_STATUSES if res.problems.get(s)]
    return "".join(pills) or '<span class="gf-ok">no problems</span>'


def index_html(results: Sequence["PageResult"], names: dict[str, str], fmt_suffix: str = ".html") -> str:
    failed = sum(not r.ok for r in results)
    rows = []
    for r in results:
        link = f'<a href="{_esc(names[r.path] + fmt_suffix)}">{_esc(r.path)}</a>'
        if r.ok:
            counts = "".join(f'<td class="gf-num">{r.summary.get(s, 0)}</td>' for s in STATUSES)
            rows.append(f"<tr><td class=\"gf-name\">{link}</td><td>{_esc(r.target)} ({_esc(r.kind)})</td>"
                        f"{counts}<td>{_badges(r)}</td></tr>")
        else:
            first = r.error.splitlines()[0] if r.error else ""
            rows.append(f'<tr class="gf-failed" data-status="failed"><td class="gf-name">{link}</td>'
                        f'<td colspan="{len(STATUSES) + 1}" class="gf-error">failed: {_esc(r.error_type)}: '
                        f"{_esc(first)}</td><td>"
                        '<span class="gf-pill gf-error-pill">error</span></td></tr>')
    head = "".join(f"<th>{s}</th>" for s in STATUSES)
    body = (f"<h1>gradflow <span class=\"gf-light\">· {len(results)} models</span></h1>\n"
            f'<p class="gf-headline">{len(results) - failed} analysed, {failed} failed</p>\n'
            f'<table id="gf-models"><thead><tr><th>model</th><th>target</th>{head}<th>problems</th></tr></thead>\n'
            "<tbody>\n" + "\n".join(rows) + "\n</tbody></table>")
    return _page("gradflow: models", body)


def index_markdown(results: Sequence["PageResult"], names: dict[str, str]) -> str:
    lines = ["# gradflow: models", "", "| model | target | " + " | ".join(STATUSES) + " | problems |",
             "|---|---|" + "---|" * len(STATUSES) + "---|"]
    for r in results:
        link = f"[{markdown_text(r.path)}]({names[r.path]}.md)"
        if r.ok:
            probs = ", ".join(f"{r.problems[s]} {s}" for s in PROBLEM_STATUSES if r.problems.get(s)) or "none"
            lines.append(f"| {link} | {markdown_code(r.target, table=True)} ({markdown_text(r.kind)}) | "
                         + " | ".join(str(r.summary.get(s, 0)) for s in STATUSES) + f" | {probs} |")
        else:
            first = (r.error.splitlines() or [""])[0]
            lines.append(f"| {link} | **failed** | " + " | ".join("-" for _ in STATUSES)
                         + f" | **error**: {markdown_text(r.error_type)}: {markdown_text(first)} |")
    return "\n".join(lines) + "\n"
