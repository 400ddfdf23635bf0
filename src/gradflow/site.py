"""``gradflow docs``: a static site (HTML or Markdown) for a set of model files.

Every model file becomes a page (the colour-coded graph, the variable table,
the StopGradient inventory, source locations: the HTML report of
:func:`gradflow.render.files.to_html`), and ``index.html`` lists them all with
summary counts and a badge per problem status.

Each model is analysed in its own worker process (``spawn``; a fresh process
per model, so one model's TensorFlow state, crash or hang cannot touch
another's). A model that fails gets an error page and a red index row; the
others still build, and the command exits 1 at the end.

The output is deterministic (no timings, dates or absolute paths), and a file
is rewritten only when its content changed, so a second run over unchanged
models writes nothing. The site folder keeps a list of the files gradflow wrote
there (``.gradflow-site``); a page whose model is gone is deleted on the next
build, and no other file in the folder is ever touched.
"""

from __future__ import annotations

import glob
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from .errors import NoModelsError, UsageError, UserError

__all__ = ["find_models", "build_site", "SiteResult", "PageResult"]

PROBLEM_STATUSES = ("blocked", "disconnected", "zero", "nonfinite")
STATUSES = ("flows",) + PROBLEM_STATUSES


# -- finding models --------------------------------------------------------------
def _is_model_file(path: str) -> bool:
    base = os.path.basename(path)
    return base.endswith(".py") and not base.startswith(("_", ".", "test_")) and base != "conftest.py"


def find_models(paths: Iterable[str]) -> list[str]:
    """The model files named by ``paths`` (files, folders searched recursively, globs), sorted, unique.

    Raises:
        NoModelsError: a path names nothing, or no model file was found at all.
    """
    found: list[str] = []
    missing: list[str] = []
    for p in paths:
        matches = sorted(glob.glob(p, recursive=True)) if glob.has_magic(p) else ([p] if os.path.exists(p) else [])
        if not matches:
            missing.append(p)
            continue
        for m in matches:
            if os.path.isdir(m):
                for root, dirs, files in os.walk(m):
                    dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")) and d != "node_modules")
                    found += [os.path.join(root, f) for f in sorted(files) if _is_model_file(f)]
            elif m.endswith(".py"):
                found.append(m)
    if missing:
        raise NoModelsError(f"no such file, folder or match: {', '.join(missing)}. Check the paths.")
    seen, models = set(), []
    for f in found:
        key = os.path.realpath(f)
        if key not in seen:
            seen.add(key)
            models.append(os.path.normpath(f))
    if not models:
        raise NoModelsError("no model files (*.py) found in " + ", ".join(paths))
    return sorted(models)


def page_names(models: Sequence[str]) -> dict[str, str]:
    """model path -> page stem, unique and stable: the path below the models' common folder."""
    dirs = [os.path.dirname(os.path.abspath(m)) for m in models]
    root = os.path.commonpath(dirs) if dirs else ""
    names: dict[str, str] = {}
    for m in models:
        rel = os.path.relpath(os.path.abspath(m), root)
        stem = rel[:-3] if rel.endswith(".py") else rel
        names[m] = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem.replace(os.sep, "__"))
    return names


# -- the worker -----------------------------------------------------------------
@dataclass
class PageResult:
    """What a worker returns for one model."""

    path: str
    ok: bool
    target: str = ""
    kind: str = ""
    summary: dict = field(default_factory=dict)
    trainable: int = 0
    headline: str = ""
    page: str = ""            # the HTML page or the Markdown text
    svg: str = ""             # markdown: the graph beside the page
    error_type: str = ""
    error: str = ""
    user_traceback: str = ""


def _markdown(report, svg_name: str) -> str:
    def cell(text) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = [f"# {report.target} in `{report.source}`", "",
             f"target `{report.target}` ({report.kind}); inputs: {report.inputs}", "",
             f"**{report.headline()}**", "",
             " · ".join(f"{k}: {n}" for k, n in report.summary.items() if n), ""]
    lines += [f"> note: {cell(n)}" for n in report.notes]
    lines += ["", f"![gradient-flow graph]({svg_name})", "", "## Variables", "",
              "| variable | shape | dtype | trainable | status | grad norm | why |",
              "|---|---|---|---|---|---|---|"]
    for v in report.variables:
        shape = "?" if v.shape is None else "[" + ", ".join("?" if d is None else str(d) for d in v.shape) + "]"
        norm = "-" if v.grad_norm is None else f"{v.grad_norm:.3g}"
        lines.append(f"| `{cell(v.name)}` | {shape} | {v.dtype} | {'yes' if v.trainable else 'no'} | "
                     f"{v.status.value} | {norm} | {cell(v.why)} |")
    blockers = sorted({(str(b.location) if b.location else "-", b.type, b.op, b.reason)
                       for v in report.variables for b in v.blockers})
    if blockers:
        lines += ["", "## Where the gradient dies", "", "| location | op type | op | reason |", "|---|---|---|---|"]
        lines += [f"| {cell(loc)} | {cell(t)} | `{cell(op)}` | {cell(r)} |" for loc, t, op, r in blockers]
    lines += ["", "## StopGradient inventory", ""]
    if report.stop_gradients:
        lines += ["| StopGradient op | location | shields (every path cut) |", "|---|---|---|"]
        for sg in report.stop_gradients:
            lines.append(f"| `{cell(sg.op)}` | {cell(sg.location or '-')} | "
                         f"{cell(', '.join(sg.shields) or '(no variable entirely)')} |")
    else:
        lines.append("No tf.stop_gradient in the traced graph.")
    return "\n".join(lines) + "\n"


_BACK_LINK = '<p class="gf-meta"><a href="index.html">&larr; all models</a></p>'


def analyse(path: str, fmt: str, stem: str) -> PageResult:
    """Inspect and render one model (run in a worker process)."""
    import contextlib
    import traceback

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # The worker's own output (TensorFlow's C++ start-up lines, the model's prints)
    # would tear through the parent's progress bar: errors come back as results.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            import tensorflow  # noqa: F401

            from .tfquiet import after_tensorflow_import

            after_tensorflow_import()
            from .api import inspect_file

            report = inspect_file(path)
        res = PageResult(path=path, ok=True, target=report.target, kind=report.kind,
                         summary=dict(report.summary), headline=report.headline(),
                         trainable=sum(v.trainable for v in report.variables))
        if fmt == "markdown":
            from .render.files import render_svg

            res.svg = render_svg(report)
            res.page = _markdown(report, stem + ".svg")
        else:
            from .render.files import to_html

            page = to_html(report)
            res.page = page.replace('<main id="gf-report" class="gf-report">',
                                    '<main id="gf-report" class="gf-report">\n' + _BACK_LINK, 1)
        return res
    except UserError as exc:
        return PageResult(path=path, ok=False, error_type=type(exc).__name__, error=str(exc),
                          user_traceback=exc.user_traceback or "")
    except Exception as exc:  # a gradflow bug or a render failure: still one page, not the whole site
        return PageResult(path=path, ok=False, error_type=type(exc).__name__, error=str(exc),
                          user_traceback=traceback.format_exc())


# -- pages ----------------------------------------------------------------------
def _esc(text) -> str:
    import html

    return html.escape(str(text), quote=True)


_INDEX_CSS = """
body{margin:16px}
.gf-report tr.gf-failed td{background:#fde2e2}
.gf-report .gf-error{color:#b00020;font-weight:600}
.gf-report pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}
.gf-report .gf-ok{color:#2e7d32;font-weight:600}
.gf-report .gf-error-pill{background:#c62828;color:#fff}
"""


def _page(title: str, body: str) -> str:
    from .render.html import CSS, csp_hash

    css = CSS + _INDEX_CSS
    csp = (f"default-src 'none'; style-src {csp_hash(css)}; script-src 'none'; img-src data:; "
           "form-action 'none'; base-uri 'none'")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{_esc(csp)}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_esc(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n"
            f'<main class="gf-report">\n{body}\n</main>\n</body>\n</html>\n')


def error_page(res: PageResult) -> str:
    parts = [_BACK_LINK, f"<h1>gradflow <span class=\"gf-light\">· {_esc(res.path)}</span></h1>",
             f'<p class="gf-error">{_esc(res.error_type)}: {_esc(res.error)}</p>']
    if res.user_traceback:
        parts.append(f"<pre>{_esc(res.user_traceback)}</pre>")
    return _page(f"gradflow: {res.path} failed", "\n".join(parts))


def error_markdown(res: PageResult) -> str:
    text = f"# {res.path}: failed\n\n**{res.error_type}**: {res.error}\n"
    if res.user_traceback:
        text += "\n```text\n" + res.user_traceback.rstrip() + "\n```\n"
    return text


def _badges(res: PageResult) -> str:
    from .render.theme import style_of
    from .schema import Status

    pills = [f'<span class="gf-pill gf-s-{s}">{res.summary[s]} {_esc(style_of(Status(s)).label)}</span>'
             for s in PROBLEM_STATUSES if res.summary.get(s)]
    return "".join(pills) or '<span class="gf-ok">no problems</span>'


def index_html(results: Sequence[PageResult], names: dict[str, str], fmt_suffix: str = ".html") -> str:
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


def index_markdown(results: Sequence[PageResult], names: dict[str, str]) -> str:
    lines = ["# gradflow: models", "", "| model | target | " + " | ".join(STATUSES) + " | problems |",
             "|---|---|" + "---|" * len(STATUSES) + "---|"]
    for r in results:
        link = f"[{r.path}]({names[r.path]}.md)"
        if r.ok:
            probs = ", ".join(f"{r.summary[s]} {s}" for s in PROBLEM_STATUSES if r.summary.get(s)) or "none"
            lines.append(f"| {link} | {r.target} ({r.kind}) | "
                         + " | ".join(str(r.summary.get(s, 0)) for s in STATUSES) + f" | {probs} |")
        else:
            first = (r.error.splitlines() or [""])[0].replace("|", "\\|")
            lines.append(f"| {link} | **failed** | " + " | ".join("-" for _ in STATUSES)
                         + f" | **error**: {r.error_type}: {first} |")
    return "\n".join(lines) + "\n"


# -- building -------------------------------------------------------------------
@dataclass
class SiteResult:
    results: list[PageResult]
    written: list[str]
    unchanged: list[str]
    removed: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[PageResult]:
        return [r for r in self.results if not r.ok]


def write_if_changed(path: str, data: str) -> bool:
    """Write ``data`` unless ``path`` already holds exactly it; True when written."""
    from .outputs import write_atomic

    try:
        with open(path, encoding="utf-8", newline="") as fh:
            if fh.read() == data:
                return False
    except (OSError, UnicodeDecodeError):
        pass
    write_atomic(path, data)
    return True


def _run_all(models: list[str], names: dict[str, str], fmt: str, jobs: int, progress: bool) -> list[PageResult]:
    import multiprocessing

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # inherited by the workers
    results: dict[str, PageResult] = {}
    ctx = multiprocessing.get_context("spawn")
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, disable=not progress) as bar:
        task = bar.add_task("analysing models", total=len(models))
        with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(models))), mp_context=ctx,
                                 max_tasks_per_child=1) as pool:
            futures = {pool.submit(analyse, m, fmt, names[m]): m for m in models}
            for fut in as_completed(futures):
                m = futures[fut]
                try:
                    res = fut.result()
                except Exception as exc:  # the worker died (segfault, OOM kill...)
                    res = PageResult(path=m, ok=False, error_type=type(exc).__name__,
                                     error=f"the worker process analysing this model died: {exc}")
                results[m] = res
                mark = "[green]ok[/green]" if res.ok else "[red]failed[/red]"
                bar.console.print(f"{mark} {m}", highlight=False)
                bar.advance(task)
    return [results[m] for m in models]


def build_site(paths: Sequence[str], out_dir: str, *, fmt: str = "html", jobs: int | None = None,
               progress: bool = True) -> SiteResult:
    """Analyse every model under ``paths`` and write the site into ``out_dir``.

    Raises:
        NoModelsError: no model files found.
    """
    models = find_models(paths)
    names = page_names(models)
    jobs = jobs or os.cpu_count() or 1
    results = _run_all(models, names, fmt, jobs, progress)
    os.makedirs(out_dir, exist_ok=True)
    files: list[tuple[str, str]] = []
    for r in results:
        stem = names[r.path]
        if fmt == "markdown":
            if r.ok:
                files.append((stem + ".svg", r.svg))
            files.append((stem + ".md", r.page if r.ok else error_markdown(r)))
        else:
            files.append((stem + ".html", r.page if r.ok else error_page(r)))
    files.append(("index.md", index_markdown(results, names)) if fmt == "markdown"
                 else ("index.html", index_html(results, names)))
    written, unchanged = [], []
    for name, data in files:
        path = os.path.join(out_dir, name)
        (written if write_if_changed(path, data) else unchanged).append(path)
    removed = _remove_stale_pages(out_dir, {name for name, _ in files})
    return SiteResult(results=results, written=written, unchanged=unchanged, removed=removed)


MANIFEST = ".gradflow-site"


def _remove_stale_pages(out_dir: str, current: set[str]) -> list[str]:
    """Delete the pages an earlier build wrote whose model is gone; record this build's files.

    Only names listed in the folder's manifest (files gradflow itself wrote
    there) are ever deleted.
    """
    manifest = os.path.join(out_dir, MANIFEST)
    try:
        with open(manifest, encoding="utf-8") as fh:
            previous = {line.strip() for line in fh if line.strip()}
    except OSError:
        previous = set()
    removed = []
    for name in sorted(previous - current):
        path = os.path.join(out_dir, name)
        if os.path.basename(name) == name and os.path.isfile(path):  # a plain file name, never a path
            os.remove(path)
            removed.append(path)
    write_if_changed(manifest, "".join(f"{name}\n" for name in sorted(current)))
    return removed


def cli_docs(args) -> int:
    """``gradflow docs PATHS... -o SITE/`` (see :func:`gradflow.cli.build_parser`)."""
    from rich.console import Console

    if args.jobs is not None and args.jobs < 1:
        raise UsageError("-j must be at least 1")
    site = build_site(args.paths, args.output, fmt=args.format, jobs=args.jobs, progress=True)
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    index = "index.md" if args.format == "markdown" else "index.html"
    console.print(f"{len(site.results)} models, {len(site.failed)} failed; "
                  f"{len(site.written)} files written, {len(site.unchanged)} unchanged"
                  + (f", {len(site.removed)} removed" if site.removed else "") + ": "
                  f"{os.path.join(args.output, index)}", markup=False)
    for r in site.failed:
        console.print(f"[red]failed[/red] {r.path}: {r.error_type}: {(r.error.splitlines() or [''])[0]}")
    return 1 if site.failed else 0
