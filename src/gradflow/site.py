"""``gradflow docs``: a static site (HTML or Markdown) for a set of model files.

Every model file becomes a page (the colour-coded graph, the variable table,
the StopGradient inventory, source locations: the HTML report of
:func:`gradflow.render.files.to_html`), and ``index.html`` lists them all with
summary counts and a badge per problem status.

Models are analysed in worker processes that live across models
(:mod:`gradflow.workers`): each imports TensorFlow once, then starts every
model on a fresh default graph inside gradflow's TensorFlow-state guard, with
Keras's name counters cleared and the previous model's modules forgotten, so
the pages are byte-identical to a fresh process per model. A model whose
process dies (``os._exit``, a segfault, the OOM killer) or that runs longer
than the per-model timeout fails alone: its worker is killed and replaced, and
the other models go on. A model that fails gets an error page and a red index
row; the command exits 1 at the end. On Ctrl-C or SIGTERM the site is still
written for every model that finished (the others get an "interrupted" page).

Page names are unique for every set of inputs: the model's path below the
models' common folder, with characters other than letters, digits, ``-``,
``_`` and ``.`` replaced; when two models map to the same name (``a b.py`` and
``a-b.py``, ``sub/x.py`` and ``sub__x.py``, names differing only in case) or a
model maps to ``index``, each of them gets a short hash of its path as a
suffix (:func:`page_names`, reported in :attr:`SiteResult.renamed`).

The output is deterministic (no timings, dates or absolute paths), and a file
is rewritten only when its content changed, so a second run over unchanged
models writes nothing. The site folder keeps a list of the files gradflow wrote
there (``.gradflow-site``); a page whose model is gone is deleted on the next
build, and no other file in the folder is ever touched.
"""

from __future__ import annotations

import glob
import hashlib
import os
import sys
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from .errors import NoModelsError, UsageError, UserError
from .render.overview import overview
from .render.site_pages import BACK_LINK, error_markdown, error_page, index_html, index_markdown, model_markdown

__all__ = ["find_models", "build_site", "check_output_dir", "page_names", "SiteResult", "PageResult",
           "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 600.0  # seconds one model may take before its worker is killed


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


RESERVED = ("index",)
_MAX_STEM = 80


def _base_stem(rel: str) -> str:
    stem = rel[:-3] if rel.endswith(".py") else rel
    stem = "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "-" for c in stem.replace(os.sep, "__"))
    stem = stem.lstrip(".") or "model"
    return stem[:_MAX_STEM]


def _relative_names(models: Sequence[str]) -> dict[str, str]:
    dirs = [os.path.dirname(os.path.abspath(m)) for m in models]
    root = os.path.commonpath(dirs) if dirs else ""
    return {m: os.path.relpath(os.path.abspath(m), root) for m in models}


def page_names(models: Sequence[str]) -> dict[str, str]:
    """model path -> page stem, unique and stable.

    The stem is the path below the models' common folder (folders joined by
    ``__``, other characters than ASCII letters, digits, ``-``, ``_``, ``.``
    made ``-``). Every model whose stem collides with another's (compared
    case-insensitively, as macOS and Windows file systems do) or with a
    reserved name (``index``) gets ``-`` and the first 8 hex digits of the
    SHA-256 of its relative path appended: the same inputs always give the
    same names, and a model's name changes only when a collision appears.
    """
    rel = _relative_names(models)
    base = {m: _base_stem(r) for m, r in rel.items()}
    count: dict[str, int] = {}
    for stem in base.values():
        count[stem.lower()] = count.get(stem.lower(), 0) + 1
    names: dict[str, str] = {}
    taken = {r for r in RESERVED}
    for m in sorted(models, key=lambda m: rel[m]):
        stem = base[m]
        if count[stem.lower()] > 1 or stem.lower() in RESERVED:
            digest = hashlib.sha256(rel[m].encode("utf-8", "surrogateescape")).hexdigest()
            width = 8
            while f"{stem}-{digest[:width]}".lower() in taken or f"{stem}-{digest[:width]}".lower() in count:
                width += 4
            stem = f"{stem}-{digest[:width]}"
        taken.add(stem.lower())
        names[m] = stem
    return names


def renamed_pages(models: Sequence[str], names: dict[str, str]) -> list[tuple[str, str]]:
    """(model, page stem) for every model whose page name needed a hash suffix."""
    rel = _relative_names(models)
    return [(m, names[m]) for m in models if names[m] != _base_stem(rel[m])]


def check_output_dir(out_dir: str) -> None:
    """Fail early (before any model is analysed) when ``out_dir`` cannot hold the site.

    Creates the folder when it is missing, and checks that a file can be
    created in it.

    Raises:
        UsageError: it is a file, inside a file, or not writable.
    """
    import tempfile

    path = os.path.abspath(out_dir)
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"-o {out_dir}: this is a file, not a folder. Give a folder for the site "
                         "(it is created if missing).")
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(prefix=".gradflow-probe-", dir=path):
            pass
    except OSError as exc:
        raise UsageError(f"-o {out_dir}: cannot write there ({exc.strerror or exc}). "
                         "Choose a folder you can write to.") from None


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
    problems: dict = field(default_factory=dict)  # unexpected problems by status: what badges count
    page: str = ""            # the HTML page or the Markdown text
    svg: str = ""             # markdown: the graph beside the page
    error_type: str = ""
    error: str = ""
    user_traceback: str = ""


def _problem_counts(report) -> dict:
    """Unexpected problems by status (a non-finite loss as ``nonfinite``): what a site badge counts."""
    ov = overview(report)
    counts: dict = {}
    for v in ov.problems:
        counts[v.status.value] = counts.get(v.status.value, 0) + 1
    if ov.loss_problem and not counts.get("nonfinite"):
        counts["nonfinite"] = 1
    return counts


# -- the worker (runs in a gradflow.workers process) ------------------------------
_BASELINE: dict = {}


def worker_setup() -> None:
    """Once per worker: silence TensorFlow and import it, then record the clean state."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # The worker's own output (TensorFlow's C++ lines, the models' prints) must not
    # reach the parent's terminal: results travel over the worker's pipe.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    from .api import collector_paused

    # TensorFlow and gradflow live as long as the worker: set aside from the cyclic
    # collector, so that no model's collections walk them again (a full collection
    # of a worker with TensorFlow imported takes 0.15 s; a small model's page took
    # 0.6 s, 0.4 s of it collections, DenseNet121's 20 s instead of 15).
    with collector_paused(lives_on=True):
        import tensorflow  # noqa: F401

        from .tfquiet import after_tensorflow_import

        after_tensorflow_import()
        import gradflow.render.files  # noqa: F401  (and the rest of gradflow, once)
        import gradflow.render.html  # noqa: F401

    _BASELINE["path"] = list(sys.path)


def _is_library_file(filename: str | None) -> bool:
    if not filename:
        return False
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix,
             os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    path = os.path.abspath(filename)
    return any(path.startswith(os.path.join(r, "")) for r in roots)


def _fresh_state() -> Callable[[], None]:
    """Start a model as a fresh process would; returns the clean-up to run after it.

    Keras's automatic layer names (``dense``, ``dense_1``...) count per
    process, and gradflow names the user's module with a counter: both start
    from zero again. sys.path goes back to what it was, and the modules the
    model imported from its own folder are forgotten, so the next model
    imports its own ``utils.py``, not this one's.
    """
    from .loading import reset_module_names

    for name in ("keras", "tf_keras"):
        module = sys.modules.get(name)
        if module is not None:
            try:
                module.backend.clear_session()
            except Exception:  # noqa: BLE001 - an odd Keras: its names may count on
                pass
    reset_module_names()
    before = set(sys.modules)
    path = list(sys.path)

    def clean_up() -> None:
        sys.path[:] = path
        for name in set(sys.modules) - before:
            module = sys.modules.get(name)
            if name.startswith("gradflow_user_") or not _is_library_file(getattr(module, "__file__", None)):
                sys.modules.pop(name, None)
        import gc

        gc.collect()

    return clean_up


def analyse(path: str, fmt: str, stem: str) -> PageResult:
    """Inspect and render one model (run in a worker process)."""
    import contextlib
    import traceback

    from .workers import exit_guard

    clean_up = _fresh_state()
    try:
        with contextlib.redirect_stdout(sys.stderr), exit_guard(f"the model {path}"):
            from .api import inspect_file

            report = inspect_file(path)
            res = PageResult(path=path, ok=True, target=report.target, kind=report.kind,
                             summary=dict(report.summary), headline=overview(report).headline,
                             problems=_problem_counts(report),
                             trainable=sum(v.trainable for v in report.variables))
            if fmt == "markdown":
                from .render.files import render_svg

                res.svg = render_svg(report)
                res.page = model_markdown(report, stem + ".svg")
            else:
                from .render.files import to_html

                page = to_html(report)
                res.page = page.replace('<main id="gf-report" class="gf-report">',
                                        '<main id="gf-report" class="gf-report">\n' + BACK_LINK, 1)
        return res
    except UserError as exc:
        return PageResult(path=path, ok=False, error_type=type(exc).__name__, error=str(exc),
                          user_traceback=exc.user_traceback or "")
    except Exception as exc:  # a gradflow bug or a render failure: still one page, not the whole site
        return PageResult(path=path, ok=False, error_type=type(exc).__name__, error=str(exc),
                          user_traceback=traceback.format_exc())
    finally:
        clean_up()


# -- building -------------------------------------------------------------------
@dataclass
class SiteResult:
    """What :func:`build_site` did.

    Attributes:
        results: one per model, in the index's order.
        written, unchanged, removed: file paths.
        renamed: (model, page stem) for the models whose page name got a hash
            suffix to keep it unique.
        interrupted: the signal number when Ctrl-C (2) or SIGTERM (15)
            stopped the build (the site then holds what finished), else None.
    """

    results: list[PageResult]
    written: list[str]
    unchanged: list[str]
    removed: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    interrupted: int | None = None

    @property
    def failed(self) -> list[PageResult]:
        return [r for r in self.results if not r.ok]


def write_if_changed(path: str, data: str) -> bool:
    """Write ``data`` unless ``path`` already holds exactly it; True when written."""
    from .writing import write_atomic

    try:
        with open(path, encoding="utf-8", newline="") as fh:
            if fh.read() == data:
                return False
    except (OSError, UnicodeDecodeError):
        pass
    write_atomic(path, data)
    return True


def _result_of(path: str, outcome) -> PageResult:
    """A worker's outcome as a page result."""
    if outcome.kind == "ok":
        return outcome.value
    if outcome.kind == "timeout":
        return PageResult(path=path, ok=False, error_type="Timeout",
                          error=f"the model timed out: {outcome.detail} and was stopped. Make it faster, "
                                "or give gradflow docs a longer --timeout SECONDS.")
    if outcome.kind == "crashed":
        return PageResult(path=path, ok=False, error_type="WorkerDied",
                          error=f"the worker process analysing this model died: {outcome.detail}. "
                                "Run `gradflow inspect` on this file alone to see what happens.")
    return PageResult(path=path, ok=False, error_type="WorkerError", error=outcome.detail)


ProgressCallback = Callable[[str, str, "PageResult | None"], None]


def analyse_models(models: Sequence[str], names: dict[str, str], fmt: str, *, jobs: int = 1,
                   timeout: float = DEFAULT_TIMEOUT, on_event: ProgressCallback | None = None
                   ) -> tuple[list[PageResult], int | None]:
    """Analyse ``models`` in isolated workers; returns (results in order, the interrupting signal or None).

    ``on_event(kind, model, result)``: ``"start"`` when a model starts on a
    worker (result None), ``"done"`` when it ended.
    """
    from .errors import Terminated
    from .workers import WorkerPool

    pool = WorkerPool("gradflow.site:analyse", setup="gradflow.site:worker_setup",
                      jobs=max(1, min(jobs, len(models))), timeout=timeout)
    results: dict[str, PageResult] = {}

    def event(kind: str, index: int, outcome) -> None:
        m = models[index]
        if kind == "done":
            results[m] = _result_of(m, outcome)
        if on_event is not None:
            on_event(kind, m, results.get(m) if kind == "done" else None)

    interrupted = None
    try:
        pool.run([(m, fmt, names[m]) for m in models], event)
    except Terminated as exc:
        interrupted = exc.signum
    except KeyboardInterrupt:
        import signal

        interrupted = int(signal.SIGINT)
    for m in models:
        if m not in results:
            results[m] = PageResult(path=m, ok=False, error_type="Interrupted",
                                    error="the build was stopped before this model finished. "
                                          "Run gradflow docs again.")
    return [results[m] for m in models], interrupted


def build_site(paths: Sequence[str], out_dir: str, *, fmt: str = "html", jobs: int | None = None,
               timeout: float = DEFAULT_TIMEOUT, on_event: ProgressCallback | None = None) -> SiteResult:
    """Analyse every model under ``paths`` and write the site into ``out_dir``.

    Args:
        paths: model files, folders (searched recursively) and globs.
        out_dir: the site folder (created if missing).
        fmt: ``"html"`` or ``"markdown"``.
        jobs: worker processes (default: the CPU count).
        timeout: seconds one model may take.
        on_event: progress callback, ``on_event(kind, model, result)``.

    Raises:
        NoModelsError: no model files found.
        UsageError: ``out_dir`` cannot hold a site, or a bad ``fmt``, ``jobs`` or ``timeout``.
    """
    import math

    if fmt not in ("html", "markdown"):
        raise UsageError(f"format {fmt!r}: choose html or markdown")
    if jobs is not None and (not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1):
        raise UsageError(f"jobs {jobs!r}: give a whole number of worker processes, 1 or more")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (
            timeout > 0 and math.isfinite(timeout)):
        raise UsageError(f"timeout {timeout!r}: give a positive number of seconds")
    models = find_models(paths)
    check_output_dir(out_dir)
    names = page_names(models)
    jobs = jobs or os.cpu_count() or 1
    results, interrupted = analyse_models(models, names, fmt, jobs=jobs, timeout=timeout, on_event=on_event)
    written, unchanged, removed = write_site(out_dir, results, names, fmt)
    return SiteResult(results=results, written=written, unchanged=unchanged, removed=removed,
                      renamed=renamed_pages(models, names), interrupted=interrupted)


def site_files(results: Sequence[PageResult], names: dict[str, str], fmt: str, *,
               index: bool = True) -> list[tuple[str, str]]:
    """(file name, content) of every page of ``results``, then the index (unless ``index=False``)."""
    files: list[tuple[str, str]] = []
    for r in results:
        stem = names[r.path]
        if fmt == "markdown":
            if r.ok:
                files.append((stem + ".svg", r.svg))
            files.append((stem + ".md", r.page if r.ok else error_markdown(r)))
        else:
            files.append((stem + ".html", r.page if r.ok else error_page(r)))
    if index:
        files.append(("index.md", index_markdown(results, names)) if fmt == "markdown"
                     else ("index.html", index_html(results, names)))
    return files


def write_site(out_dir: str, results: Sequence[PageResult], names: dict[str, str],
               fmt: str) -> tuple[list[str], list[str], list[str]]:
    """Write the pages and the index of ``results``; returns (written, unchanged, removed) paths.

    Shared by a whole build and by ``gradflow docs --merge`` (:mod:`gradflow.sharding`),
    so that a merged site is byte-identical to an unsharded one.
    """
    os.makedirs(out_dir, exist_ok=True)
    files = site_files(results, names, fmt)
    written, unchanged = [], []
    for name, data in files:
        path = os.path.join(out_dir, name)
        (written if write_if_changed(path, data) else unchanged).append(path)
    removed = _remove_stale_pages(out_dir, {name for name, _ in files})
    return written, unchanged, removed


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
