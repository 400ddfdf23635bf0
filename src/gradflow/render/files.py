"""Rendering the gradient-flow graph with Graphviz's ``dot``, and writing the files.

:func:`write_outputs` serves the CLI's ``--svg/--png/--pdf/--dot/--html/-o``;
:func:`render_svg` and :func:`render_path` serve ``Report.to_svg()`` and
``Report.render(path)``; :func:`to_html` and :func:`notebook_html` draw the graph
for :mod:`gradflow.render.html`'s page and notebook view. Nothing here re-runs the analysis: everything is drawn
from the finished report.

Every file is written atomically (:func:`gradflow.writing.write_atomic`), and
DOT is written before anything needs ``dot``, so it survives a missing Graphviz.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import time
import weakref
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import RenderError
from ..writing import format_of, write_atomic
from .dot import MAX_NODES, Drawing, build_drawing
from .html import html_document, notebook_document, run_page

if TYPE_CHECKING:
    from ..report import Report

__all__ = ["GraphOptions", "write_outputs", "render_svg", "render_path", "to_html", "notebook_html", "run_html", "run_dot",
           "install_hint", "FORMATS", "GRAPH_FORMATS"]

FORMATS = ("svg", "png", "pdf", "dot", "html")
GRAPH_FORMATS = ("svg", "png", "pdf")
@dataclass
class GraphOptions:
    """How to draw the graph.

    Attributes:
        view: ``"flow"`` (variable-to-loss paths, trivial ops contracted) or ``"full"``.
        collapse: collapse name scopes deeper than this; None picks a depth
            that keeps about ``max_nodes`` nodes.
        focus: draw only the paths from this variable (or scope) to the loss.
        timeout: seconds Graphviz's layout may take before it is stopped.
        max_nodes: the automatic collapse's budget.
    """

    view: str = "flow"
    collapse: int | None = None
    focus: str | None = None
    timeout: float = 60.0
    max_nodes: int = MAX_NODES

    def __post_init__(self) -> None:
        import math

        from ..errors import ArgumentError

        if self.view not in ("flow", "full"):
            raise ArgumentError(f"view {self.view!r}: choose 'flow' or 'full'")
        if self.collapse is not None and (not isinstance(self.collapse, int) or isinstance(self.collapse, bool)
                                          or self.collapse < 0):
            raise ArgumentError(f"collapse {self.collapse!r}: give a scope depth, a whole number >= 0 (or None)")
        if self.focus is not None and not isinstance(self.focus, str):
            raise ArgumentError(f"focus {self.focus!r}: give a variable or scope name (a str)")
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)) or not (
                math.isfinite(self.timeout) and self.timeout > 0):
            raise ArgumentError(f"timeout {self.timeout!r}: give a number of seconds greater than 0")
        if not isinstance(self.max_nodes, int) or isinstance(self.max_nodes, bool) or self.max_nodes < 1:
            raise ArgumentError(f"max_nodes {self.max_nodes!r}: give a whole number, 1 or more")

    def drawing_options(self) -> dict:
        return {"view": self.view, "collapse": self.collapse, "focus": self.focus, "max_nodes": self.max_nodes}


def _options(kwargs: dict) -> GraphOptions:
    names = {f.name for f in fields(GraphOptions)}
    unknown = sorted(set(kwargs) - names)
    if unknown:
        from ..errors import ArgumentError

        raise ArgumentError(f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                        f"expected {', '.join(sorted(names))}")
    return GraphOptions(**kwargs)


# -- Graphviz ----------------------------------------------------------------
def install_hint() -> str:
    """The command that installs Graphviz's ``dot`` on this platform."""
    system = platform.system()
    if system == "Darwin":
        cmd = "brew install graphviz"
    elif system == "Windows":
        cmd = "winget install graphviz   (or: choco install graphviz)"
    else:
        ids = _os_release_ids()
        if ids & {"debian", "ubuntu"}:
            cmd = "sudo apt-get install graphviz"
        elif ids & {"fedora", "rhel", "centos", "rocky", "almalinux"}:
            cmd = "sudo dnf install graphviz"
        elif ids & {"arch", "manjaro"}:
            cmd = "sudo pacman -S graphviz"
        elif ids & {"alpine"}:
            cmd = "sudo apk add graphviz"
        elif ids & {"opensuse", "suse", "opensuse-leap", "opensuse-tumbleweed"}:
            cmd = "sudo zypper install graphviz"
        else:
            cmd = "install the 'graphviz' package with your system's package manager"
    if os.environ.get("CONDA_PREFIX"):
        cmd += "   (in this conda environment: conda install -c conda-forge graphviz)"
    return cmd


def _os_release_ids() -> set[str]:
    try:
        with open("/etc/os-release", encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return set()
    ids: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            ids.update(value.strip().strip('"').lower().split())
    return ids


def _missing_dot(fmt: str) -> RenderError:
    return RenderError(
        f"Graphviz's `dot` program is not on PATH, and drawing {fmt.upper()} needs it "
        f"(the Python package `graphviz` only calls it). Install it: {install_hint()}. "
        "Without it, --dot OUT.dot still writes the graph's source."
    )


def run_dot(source: str, fmt: str, *, timeout: float = 60.0, nodes: int | None = None,
            warnings: list | None = None) -> bytes:
    """Lay out DOT ``source`` with Graphviz's ``dot`` and return the ``fmt`` output.

    Args:
        source: DOT text.
        fmt: ``svg``, ``png`` or ``pdf``.
        timeout: seconds before the layout is stopped.
        nodes: how many nodes the graph draws (for the timeout message).
        warnings: when given, Graphviz's own warnings are appended to it (a PNG
            scaled down to fit the bitmap size limit, say).

    Raises:
        RenderError: ``dot`` is missing (with the install command), too slow
            (suggesting ``--collapse``), or failed.
    """
    exe = shutil.which("dot")
    if exe is None:
        raise _missing_dot(fmt)
    env = dict(os.environ)
    env["SOURCE_DATE_EPOCH"] = "0"  # newer cairo: no date stamp in PDFs
    try:
        proc = subprocess.run([exe, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True,
                              timeout=timeout, env=env, check=False)
    except FileNotFoundError as exc:
        raise _missing_dot(fmt) from exc
    except subprocess.TimeoutExpired as exc:
        size = f" {nodes} nodes" if nodes is not None else " the graph"
        raise RenderError(
            f"Graphviz's layout of{size} took longer than {timeout:g} s and was stopped. Draw fewer "
            "nodes with --collapse DEPTH (e.g. --collapse 1) or --focus NAME, or allow more time "
            "with --render-timeout SECONDS."
        ) from exc
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"Graphviz's dot failed to draw {fmt.upper()} (exit {proc.returncode}): "
                          f"{err[-800:] or 'no message'}")
    if warnings is not None:
        warnings.extend(line.strip() for line in proc.stderr.decode("utf-8", "replace").splitlines()
                        if line.strip())
    if fmt == "pdf":
        return _PDF_DATE.sub(lambda m: m.group(1) + b"19700101000000", proc.stdout)
    return proc.stdout


# Older cairo ignores SOURCE_DATE_EPOCH; the date is fixed in place (same length,
# so the PDF's cross-reference offsets stay right).
_PDF_DATE = re.compile(rb"(/(?:CreationDate|ModDate) \(D:)(\d{14})")


_TITLE = re.compile(r'(<g id="(gf_[a-z]_[0-9a-f]{12})" class="(?:node|edge|cluster)">\s*<title>)(.*?)(</title>)',
                    re.DOTALL)


def xml_text(text: str) -> str:
    """Text for an XML element: control and bidi characters made visible (XML forbids most controls)."""
    from .text import visible

    text = visible(text, newlines=True)
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def finish_svg(svg: str, drawing: Drawing) -> str:
    """Give every node, edge and cluster a ``<title>`` (the browser's tooltip) that describes it.

    Graphviz titles an element with its DOT id; gradflow's titles say the op
    type, name, dtype, shape, source line and status.
    """
    titles = drawing.titles

    def repl(m: re.Match) -> str:
        text = titles.get(m.group(2))
        if text is None:
            return m.group(0)
        return m.group(1) + xml_text(text) + m.group(4)

    return _TITLE.sub(repl, svg)


def drawing_svg(drawing: Drawing, *, timeout: float = 60.0) -> str:
    """SVG text of a built drawing."""
    raw = run_dot(drawing.digraph.source, "svg", timeout=timeout, nodes=drawing.nodes).decode("utf-8")
    return finish_svg(raw, drawing)


# A few recent renders, so that a notebook's _repr_html_ and _repr_svg_ lay out once.
_CACHE: "list[tuple[Any, tuple, Drawing, str]]" = []
_CACHE_SIZE = 4


def _cached(report: "Report", options: GraphOptions) -> tuple[Drawing, str] | None:
    key = tuple(sorted(options.drawing_options().items(), key=lambda kv: kv[0]))
    for ref, k, drawing, svg in _CACHE:
        if ref() is report and k == key:
            return drawing, svg
    return None


def _remember(report: "Report", options: GraphOptions, drawing: Drawing, svg: str) -> None:
    key = tuple(sorted(options.drawing_options().items(), key=lambda kv: kv[0]))
    _CACHE.insert(0, (weakref.ref(report), key, drawing, svg))
    del _CACHE[_CACHE_SIZE:]


def svg_and_drawing(report: "Report", options: GraphOptions) -> tuple[Drawing, str]:
    """The drawing and its SVG, laid out once per report and options."""
    hit = _cached(report, options)
    if hit is not None:
        return hit
    drawing = build_drawing(report, **options.drawing_options())
    svg = drawing_svg(drawing, timeout=options.timeout)
    _remember(report, options, drawing, svg)
    return drawing, svg


def _add_render_time(report: "Report", seconds: float) -> None:
    try:
        report.timings["render_s"] = report.timings.get("render_s", 0.0) + seconds
    except (AttributeError, TypeError):  # a report without a timings dict
        pass


# -- public entry points -----------------------------------------------------
def render_svg(report: "Report", **options: Any) -> str:
    """The gradient-flow graph of ``report`` as SVG text.

    Args:
        report: the report.
        **options: :class:`GraphOptions` fields (``view``, ``collapse``, ``focus``,
            ``timeout``, ``max_nodes``).

    Raises:
        RenderError: Graphviz is missing or too slow.
        ArgumentError: an unknown option or a bad value (also a TypeError/ValueError).
    """
    opts = _options(options)
    start = time.perf_counter()
    try:
        return svg_and_drawing(report, opts)[1]
    finally:
        _add_render_time(report, time.perf_counter() - start)


def render_path(report: "Report", path: str, **options: Any) -> str:
    """Write the graph (``.svg``, ``.png``, ``.pdf``, ``.dot``) or the HTML report (``.html``) to ``path``.

    Returns:
        ``path``.
    """
    import os

    from ..errors import ArgumentError

    if not isinstance(path, (str, os.PathLike)) or isinstance(os.fspath(path), bytes):
        raise ArgumentError(f"path {path!r}: give the output file's name as a str or a pathlib.Path")
    path = os.fspath(path)
    opts = _options(options)
    write_outputs(report, [(str(path), format_of(str(path)))], opts, quiet=True)
    return str(path)


def write_outputs(report: "Report", requests: Sequence[tuple[str, str]], options: GraphOptions | None = None,
                  *, quiet: bool = False) -> None:
    """Write every requested output: DOT first, then SVG, PNG, PDF and HTML.

    Args:
        report: the report to draw.
        requests: (path, format) pairs, format in svg/png/pdf/dot/html.
        options: how to draw.
        quiet: do not print the auto-collapse note to stderr.

    Raises:
        RenderError: Graphviz is missing or too slow, or a file cannot be written.
            Any DOT file asked for is written before Graphviz is needed.
    """
    options = options or GraphOptions()
    for path, fmt in requests:
        if fmt not in FORMATS:
            raise RenderError(f"{path}: unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if not requests:
        return
    start = time.perf_counter()
    try:
        _write(report, list(requests), options, quiet)
    finally:
        _add_render_time(report, time.perf_counter() - start)


def _write(report: "Report", requests: list[tuple[str, str]], options: GraphOptions, quiet: bool) -> None:
    hit = _cached(report, options)
    drawing = hit[0] if hit else build_drawing(report, **options.drawing_options())
    svg = hit[1] if hit else None
    if drawing.note and not quiet:
        _print_note(drawing.note)
    for path, fmt in requests:
        if fmt == "dot":
            write_atomic(path, drawing.digraph.source)
    for path, fmt in requests:
        if fmt in ("svg", "html") and svg is None:
            svg = drawing_svg(drawing, timeout=options.timeout)
            _remember(report, options, drawing, svg)
        if fmt == "svg":
            write_atomic(path, svg)
        elif fmt in ("png", "pdf"):
            said: list[str] = []
            write_atomic(path, run_dot(drawing.digraph.source, fmt, timeout=options.timeout, nodes=drawing.nodes,
                                       warnings=said))
            if any("scal" in w.lower() for w in said):
                _print_note(f"{path}: the picture is larger than Graphviz's bitmap limit and was scaled down, "
                            "so its text may be illegible; write SVG instead (--svg) or draw less "
                            "(--focus NAME, --collapse DEPTH)")
        elif fmt == "html":

            write_atomic(path, html_document(report, svg=svg, drawing=drawing, options=options))


def _print_note(note: str) -> None:
    from rich.console import Console

    Console(stderr=True, highlight=False, soft_wrap=True).print(f"note: {note}", style="yellow", markup=False)


def to_html(report: "Report", *, options: GraphOptions | None = None) -> str:
    """The self-contained HTML report of ``report``.

    Args:
        report: the report.
        options: how to draw the graph.

    Returns:
        One HTML document that needs no network: style, script and SVG are inline.

    Raises:
        RenderError: Graphviz's ``dot`` is missing or too slow.
    """
    options = options or GraphOptions()
    drawing, svg = svg_and_drawing(report, options)
    return html_document(report, svg=svg, drawing=drawing, options=options)


def run_html(script: str, sites: "Sequence[Any]", schema: str) -> str:
    """``gradflow run --html``: every gradient site's report on one page, each with its graph
    (without one where Graphviz is missing or too slow: the tables still show)."""
    graphs = []
    for item in sites:
        graph = None
        if item.report.flow is not None:
            try:
                graph = svg_and_drawing(item.report, GraphOptions())
            except Exception:  # noqa: BLE001 - no Graphviz, or too slow
                graph = None
        graphs.append(graph)
    return run_page(script, sites, schema, graphs)


def notebook_html(report: "Report") -> str:
    """Table and graph for a Jupyter cell (``Report._repr_html_``); no script.

    When Graphviz's ``dot`` is missing the table still shows, with a note saying
    what to install.
    """
    try:
        drawing, svg = svg_and_drawing(report, GraphOptions())
    except RenderError as exc:
        return notebook_document(report, svg=None, drawing=None, graph_error=str(exc))
    return notebook_document(report, svg=svg, drawing=drawing)
