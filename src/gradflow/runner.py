"""``gradflow run SCRIPT.py [ARGS...]``: run an unmodified training script and report every gradient site.

The script runs as ``__main__`` (its folder first on ``sys.path``, ``sys.argv``
its own), like ``python -m cProfile``. :class:`~gradflow.intercept.Interceptor`
reports each gradient site once; by default the script is stopped cleanly at
the start of the first step after which every site seen has been analysed.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from .errors import UserError
from .intercept import Interceptor, SiteReport, StopScript
from .tfquiet import import_tensorflow

__all__ = ["RunResult", "run_script", "ScriptError", "run_to_dict", "run_html", "cli_run"]

RUN_SCHEMA = "gradflow.run/1"
DEFAULT_TIMEOUT = 600.0


class ScriptError(UserError):
    """The script cannot be run, ended before any gradient, or raised."""


class _OsExit(BaseException):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class RunResult:
    """What ``gradflow run`` found.

    Attributes:
        script: the script as given.
        sites: one :class:`~gradflow.intercept.SiteReport` per gradient site, in order.
        stopped: gradflow ended the script once every site was analysed.
        errors: sites gradflow could not analyse.
    """

    script: str
    sites: list[SiteReport] = field(default_factory=list)
    stopped: bool = False
    errors: list[str] = field(default_factory=list)


def run_to_dict(result: RunResult) -> dict:
    """The contract's ``gradflow.run/1`` object."""
    return {"schema": RUN_SCHEMA, "script": result.script, "sites": [s.to_dict() for s in result.sites]}


def _check_script(path: str) -> None:
    if not os.path.exists(path):
        raise ScriptError(f"no such script: {path}. Give the path of a Python training script "
                          "(gradflow run train.py --epochs 1).")
    if os.path.isdir(path):
        raise ScriptError(f"{path} is a folder; give the training script inside it (gradflow run {path}/train.py).")
    try:
        with open(path, "rb") as fh:
            source = fh.read()
        compile(source, path, "exec")
    except (SyntaxError, ValueError, UnicodeDecodeError) as exc:
        raise ScriptError(f"{path} is not a Python script ({type(exc).__name__}: {exc}). "
                          "gradflow run takes a .py training script.") from None


def run_script(script: str, args: list[str] | tuple = (), *, steps: int | None = None, stop: bool = True,
               timeout: float | None = DEFAULT_TIMEOUT, on_report: Any = None,
               stdout_to_stderr: bool = False) -> RunResult:
    """Run ``script`` as ``__main__`` with ``args`` and report its gradient sites.

    Raises:
        ScriptError: the script is missing or not Python, ends (``sys.exit``,
            ``os._exit`` or its last line) before any gradient, computes none
            within ``timeout`` seconds, or raises (``result`` attribute: the
            sites reported before; ``user_traceback``: its own frames).
    """
    _check_script(script)
    result = RunResult(script=script)
    interceptor = Interceptor(on_report, steps=steps, stop=stop, source=script)
    saved_argv, saved_path0 = sys.argv[:], sys.path[:]
    saved_os_exit = os._exit
    timed_out = threading.Event()
    finished = threading.Event()

    pid = os.getpid()

    def os_exit(code: int = 0) -> None:
        if os.getpid() != pid:  # a child the script forked ends as it asked
            saved_os_exit(code)
        raise _OsExit(code)

    def watchdog() -> None:
        if timeout is None or finished.wait(timeout):
            return
        if not interceptor.reports and interceptor.calls == 0 and not interceptor._tf1_pending:
            timed_out.set()
            import _thread

            _thread.interrupt_main()

    sys.argv = [script] + list(args)
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    os._exit = os_exit  # type: ignore[assignment]
    guard = threading.Thread(target=watchdog, daemon=True)
    failure: BaseException | None = None
    exit_code: Any = None
    redirect = contextlib.redirect_stdout(sys.stderr) if stdout_to_stderr else contextlib.nullcontext()
    try:
        with redirect:
            import_tensorflow()  # before the clock starts

            interceptor.install()
            guard.start()
            try:
                runpy.run_path(script, run_name="__main__")
            except StopScript:
                result.stopped = True
            except SystemExit as exc:
                exit_code = exc.code
            except _OsExit as exc:
                exit_code = ("os._exit", exc.code)
            except KeyboardInterrupt:
                if not timed_out.is_set():
                    raise
            except Exception as exc:  # noqa: BLE001 - the user's script raised
                failure = exc
            finally:
                finished.set()
                try:
                    interceptor.finish()
                except StopScript:
                    pass
                interceptor.uninstall()
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path0
        os._exit = saved_os_exit  # type: ignore[assignment]
    result.sites = list(interceptor.reports)
    result.errors = list(interceptor.errors)
    if failure is not None:
        from .sources import format_user_traceback

        err = ScriptError(f"{script} raised {type(failure).__name__}: {failure}",
                          user_traceback=format_user_traceback(failure))
        err.result = result  # type: ignore[attr-defined]
        raise err
    if result.sites:
        return result
    if timed_out.is_set():
        raise ScriptError(f"{script} computed no gradient within {timeout:g} s (--timeout). "
                          "Give a longer --timeout, or make sure the script reaches its training step.")
    if isinstance(exit_code, tuple):
        raise ScriptError(f"{script} called os._exit({exit_code[1]}) before computing any gradient; "
                          "gradflow reports only the gradients computed before the script ends.")
    if exit_code not in (None, 0):
        raise ScriptError(f"{script} exited with code {exit_code} before computing any gradient. "
                          "Check its arguments (gradflow run SCRIPT.py ARGS...).")
    raise ScriptError(f"{script} ended (exit code 0) without computing any gradient: no tape.gradient, "
                      "tf.gradients, model.fit or optimizer.minimize ran. Pass the arguments that make it train.")


# ---------------------------------------------------------------------------
# outputs


def site_renderable(item: SiteReport) -> Any:
    from .watching import site_renderable as _site

    return _site(item)


def run_html(result: RunResult) -> str:
    """One self-contained page with every site's report."""
    from . import __version__
    from .render import html as H

    sections = []
    for n, item in enumerate(result.sites, 1):
        graph = ""
        if item.report.flow is not None:
            try:
                from .render.files import GraphOptions, svg_and_drawing

                drawing, svg = svg_and_drawing(item.report, GraphOptions())
                graph = H._graph_section(svg, drawing, controls=False)
            except Exception:  # noqa: BLE001 - no Graphviz, or too slow: the tables still show
                graph = ""
        sections.append("\n".join([
            f'<section class="gf-site" id="site-{n}"><h2>{H.esc(item.site.heading())}</h2>',
            H._header(item.report, heading="h3"),
            H._variable_table(item.report, {}),
            "<h3>StopGradient inventory</h3>", H._stop_gradients(item.report),
            graph, "</section>",
        ]))
    body = "\n".join(['<main id="gf-report" class="gf-report">',
                      f"<header><h1>gradflow run <span class=\"gf-light\">· {H.esc(result.script)}</span></h1>",
                      f'<p class="gf-meta">{len(result.sites)} gradient site(s)</p></header>',
                      *sections,
                      f"<footer>gradflow {H.esc(__version__)} · {RUN_SCHEMA}</footer>", "</main>"])
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{H.esc(H.CSP)}\">\n"
            f"<title>gradflow run: {H.esc(result.script)}</title>\n<style>{H.CSS}</style>\n</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n")


def _fail_hits(result: RunResult, statuses: tuple[str, ...]) -> list[str]:
    return [f"{item.site.file}:{item.site.line} {v.name} ({v.status.value})"
            for item in result.sites for v in item.report.variables
            if v.trainable and v.status.value in statuses]


def cli_run(args: Any) -> int:
    """``gradflow run``: the command line."""
    from rich.console import Console

    from .outputs import write_atomic

    if args.steps is not None and args.steps < 1:
        from .errors import UsageError

        raise UsageError(f"--steps must be at least 1 (got {args.steps})")
    text = args.format == "text"
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=120)

    def show(item: SiteReport) -> None:
        if text:
            console.print(site_renderable(item))

    script_args = list(args.script_args)
    if script_args[:1] == ["--"]:
        script_args = script_args[1:]
    try:
        result = run_script(args.script, script_args, steps=args.steps, stop=not args.no_stop,
                            timeout=args.timeout, on_report=show, stdout_to_stderr=not text)
    except ScriptError as exc:
        partial = getattr(exc, "result", None)
        if partial is not None and partial.sites:
            _write_outputs(partial, args, text=False, write_atomic=write_atomic)
        raise
    _write_outputs(result, args, text=text, write_atomic=write_atomic)
    for error in result.errors:
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"gradflow could not analyse {error}", markup=False)
    if args.fail_on:
        hits = _fail_hits(result, args.fail_on)
        if hits:
            Console(stderr=True, highlight=False, soft_wrap=True).print(
                "--fail-on matched: " + ", ".join(hits), markup=False)
            return 1
    return 0


def _write_outputs(result: RunResult, args: Any, *, text: bool, write_atomic: Any) -> None:
    data = json.dumps(run_to_dict(result), indent=2, ensure_ascii=False)
    if args.json_out:
        write_atomic(args.json_out, data + "\n")
    if args.html_out:
        write_atomic(args.html_out, run_html(result))
    if args.format == "json":
        sys.stdout.write(data + "\n")
