"""``gradflow`` on the command line. Thin: parse, call the API, print, exit.

TensorFlow is imported only inside commands, so ``gradflow --help`` is instant.
Exit codes: 0 done; 1 ``--fail-on`` matched a trainable variable; 2 a user
error (a short message on stderr, the user's own frames where their code
raised); 3 an internal gradflow error (re-run with ``--debug``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TYPE_CHECKING, Any, Sequence

from .errors import GradflowError, RenderError, TrainOptionsError, UsageError, UserError
from .tfquiet import import_tensorflow
from .version import __version__

if TYPE_CHECKING:
    from .report import Report

__all__ = ["main", "build_parser", "load_report"]


def _status_list(text: str) -> tuple[str, ...]:
    from .schema import STATUS_WORDS as STATUSES

    items = tuple(s.strip() for s in text.split(",") if s.strip())
    bad = [s for s in items if s not in STATUSES]
    if bad or not items:
        raise argparse.ArgumentTypeError(
            f"unknown status {', '.join(bad) or repr(text)}; choose from {', '.join(STATUSES)}"
        )
    return items


def _positive_int(*, minimum: int = 1):
    """An argparse type: a whole number >= ``minimum``; the error names the value and the range
    (argparse puts the flag in front)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r}: give a whole number, {minimum} or more")
        return value

    return parse


def _positive_number(wanted: str):
    """An argparse type: a finite number > 0; the error says what is ``wanted`` (argparse names the flag)."""
    import math

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"{text!r}: give {wanted}")
        return value

    return parse


_SECONDS = _positive_number("a number of seconds greater than 0 (e.g. 60)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradflow",
        description="Find where the gradient dies in a TensorFlow model, and show it.",
    )
    parser.add_argument("--version", action="version", version=f"gradflow {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser(
        "inspect",
        help="report which variables receive a gradient from a model file's loss",
        description=(
            "Load FILE (a Python model file, a SavedModel directory or a GraphDef), trace its loss, "
            "and report for every variable whether TensorFlow's gradient reaches it (flows, zero, "
            "nonfinite, blocked, disconnected) and, where it does not, the op and source line where it dies."
        ),
    )
    _add_model_file_arguments(
        p, "the model: a .py file defining `loss` (a function, a compiled model or a TF1 loss tensor), "
           "a SavedModel directory (with --function) or a GraphDef .pb/.pbtxt (with --loss)",
        "the attribute to inspect (default: loss, loss_fn, compute_loss, then the only tf.function or compiled keras.Model)",
        "the attribute holding example inputs (default: example_inputs; example_feed for TF1)", formats=True)
    p.add_argument("--format", choices=("text", "json"), default="text", help="stdout format (default: text)")
    p.add_argument("--json", metavar="OUT", dest="json_out", help="also write the JSON report to OUT")
    p.add_argument("--fail-on", metavar="STATUS[,STATUS]", type=_status_list, default=(),
                   help="exit 1 when a trainable variable has one of these statuses (for CI)")
    p.add_argument("--ignore-expected", action="store_true",
                   help="--fail-on skips variables whose status is expected (non-trainable, or frozen on "
                        "purpose by your own tf.stop_gradient)")
    p.add_argument("--all", action="store_true", dest="show_all",
                   help="list every variable and every StopGradient, even in large models")
    p.add_argument("--layers", action="store_true",
                   help="add the layer view: variables grouped by owning layer, with class, parameters and status")
    p.add_argument("--baseline", metavar="FILE",
                   help="accept the state recorded in FILE (a gradflow.baseline/1 file): exit 1 only on a change "
                        "for the worse (a regression, a new trainable variable that does not learn)")
    p.add_argument("--update-baseline", action="store_true",
                   help="(re)write the --baseline FILE from this report instead of checking it")
    p.add_argument("--static", action="store_true",
                   help="skip TensorFlow's autodiff and the numeric check: verdicts from the graph and TensorFlow's "
                        "gradient registry alone (flows = a gradient exists; zero and nonfinite are not checked); faster")
    _add_graph_arguments(p)
    p.add_argument("--debug", action="store_true", help="show gradflow's own traceback on errors; fail on any disagreement with TensorFlow")

    e = sub.add_parser(
        "explain",
        help="explain one variable: every path to the loss, where it is cut, and the fix",
        description=(
            "Inspect FILE and explain the named variables (glob patterns select several): status and "
            "why, every path from the variable to the loss as an op chain with source lines, the cut "
            "points with reason and fix, and the gradient norm."
        ),
    )
    _add_model_file_arguments(e, "the model: a .py file, a SavedModel directory or a GraphDef (as for inspect)",
                              "the attribute to inspect (as for inspect)",
                              "the attribute holding example inputs (as for inspect)", formats=True)
    e.add_argument("variables", metavar="VARIABLE", nargs="+", help="a variable name or glob pattern ('dense/*')")
    e.add_argument("--svg", metavar="OUT", help="also draw the paths of the (first) variable as SVG")
    e.add_argument("--debug", action="store_true", help="show gradflow's own traceback on errors")

    t = sub.add_parser(
        "train",
        help="run real optimizer steps and record how each variable moves",
        description=(
            "Run N optimizer steps on FILE's loss and report, per variable, whether it moved, "
            "stayed frozen or diverged, next to the static verdict of `gradflow inspect`."
        ),
    )
    _add_model_file_arguments(t, "the model file", "the attribute to train (as for inspect)",
                              "the attribute holding example inputs (as for inspect)")
    t.add_argument("--steps", type=_positive_int(), default=100, metavar="N", help="optimizer steps (default: 100)")
    t.add_argument("--optimizer", choices=("sgd", "adam", "rmsprop"), default=None,
                   help="the optimizer (default: sgd, or a compiled model's own)")
    t.add_argument("--lr", type=_positive_number("a number greater than 0 (e.g. 0.01)"), default=None, help="learning rate (default: 0.1, or a compiled model's own)")
    t.add_argument("--plot", metavar="OUT", help="plot trajectories, gradient norms and loss to OUT (.svg, .png, .pdf)")
    t.add_argument("--plot-layers", metavar="OUT", help="Keras models: mean/max |gradient| per layer at the first and last step")
    t.add_argument("--format", choices=("text", "json"), default="text", help="stdout format (default: text)")
    t.add_argument("--json", metavar="OUT", dest="json_out", help="also write the JSON result to OUT")
    t.add_argument("--debug", action="store_true", help="show gradflow's own traceback on errors")

    f = sub.add_parser(
        "diff",
        help="compare gradient flow between two versions of a model (for pull requests)",
        description=(
            "Compare BEFORE and AFTER, each a model file (inspected on the spot) or a saved JSON report, "
            "variable by variable: regressions (a trainable variable stopped receiving gradient) with the "
            "decisive cut and its line, improvements, added and removed tf.stop_gradient cuts, partially "
            "blocked variables, added and removed variables. Exit 1 on a regression (see --fail-on)."
        ),
    )
    f.add_argument("before", metavar="BEFORE", help="the old version: a model file or a gradflow.report/1 JSON")
    f.add_argument("after", metavar="AFTER", help="the new version: a model file or a gradflow.report/1 JSON")
    f.add_argument("--target", metavar="NAME", help="for model files: the attribute to inspect (as for inspect)")
    f.add_argument("--inputs", metavar="NAME", help="for model files: the attribute holding example inputs")
    f.add_argument("--static", action="store_true", help="inspect model files in static mode (as for inspect)")
    f.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                   help="stdout format: text, markdown (a pull-request comment) or json (gradflow.diff/1); "
                        "default: text")
    f.add_argument("--json", metavar="OUT", dest="json_out", help="also write the gradflow.diff/1 JSON to OUT")
    f.add_argument("--markdown", metavar="OUT", dest="markdown_out", help="also write the Markdown to OUT")
    f.add_argument("--svg", metavar="OUT", help="draw the changed variables and cuts, highlighted, as SVG")
    f.add_argument("-o", "--output", metavar="OUT", action="append", default=[],
                   help="draw the picture in the format its suffix names (.svg, .png, .pdf, .dot); repeatable")
    f.add_argument("--fail-on", metavar="KIND[,KIND]", default="regression",
                   help="exit 1 when a change of these kinds is found: regression, improvement, cut-added, "
                        "cut-removed, added, removed, or none (default: regression)")
    f.add_argument("--render-timeout", type=_SECONDS, default=60.0, metavar="SECONDS",
                   help="stop Graphviz layout after this long (default: 60)")
    f.add_argument("--debug", action="store_true", help="show gradflow's own traceback on errors")

    r = sub.add_parser(
        "run",
        help="run a training script unmodified and report every gradient it computes",
        description=(
            "Run SCRIPT as __main__ with its own arguments and intercept every gradient computation "
            "(tape.gradient, tf.gradients, model.fit, TF1 optimizers, eager or inside tf.function). "
            "Each gradient site (file, line, sources) is reported once; by default the script is "
            "stopped after the first step in which every site has been analysed."
        ),
    )
    r.add_argument("script", metavar="SCRIPT.py", help="the training script, run as __main__")
    r.add_argument("script_args", metavar="ARGS", nargs=argparse.REMAINDER, help="the script's own arguments")
    r.add_argument("--steps", type=_positive_int(), default=None, metavar="N",
                   help="analyse the first N gradient sites, then stop (default: every site of the first step)")
    r.add_argument("--no-stop", action="store_true", help="let the script run to its end")
    r.add_argument("--timeout", type=_SECONDS, default=600.0, metavar="SECONDS",
                   help="give up when no gradient is computed within SECONDS (default: 600)")
    r.add_argument("--format", choices=("text", "json"), default="text",
                   help="stdout format (default: text; json prints one gradflow.run/1 object, the script's "
                        "own output going to stderr)")
    r.add_argument("--json", metavar="OUT", dest="json_out", help="also write the gradflow.run/1 JSON to OUT")
    r.add_argument("--html", metavar="OUT", dest="html_out", help="write one HTML page with every site's report")
    r.add_argument("--fail-on", metavar="STATUS[,STATUS]", type=_status_list, default=(),
                   help="exit 1 when a trainable variable of any site has one of these statuses")
    r.add_argument("--debug", action="store_true", help="show gradflow's own traceback on errors")

    d = sub.add_parser("docs", help="build a static site (HTML or Markdown) with one page per model file",
                       description="Analyse every model file under PATHS (files, folders, globs), each in its "
                                   "own process, and write one page per model plus an index to SITE.")
    d.add_argument("paths", nargs="*", metavar="PATH", help="model files, folders (searched recursively) or globs")
    d.add_argument("-o", "--output", metavar="SITE", required=True, help="the folder to write the site into")
    d.add_argument("--format", choices=("html", "markdown"), default="html", help="page format (default: html)")
    d.add_argument("-j", "--jobs", type=_positive_int(), default=None, metavar="N",
                   help="worker processes (default: CPU count)")
    d.add_argument("--timeout", type=_SECONDS, default=None, metavar="SECONDS",
                   help="stop a model that takes longer than this; its page says it timed out (default: 600)")
    d.add_argument("--shard", metavar="K/N", default=None,
                   help="build only part K of N (for a CI matrix): its pages and a part file, no index")
    d.add_argument("--merge", metavar="PART", nargs="+", default=None,
                   help="join the part folders of shards 1..N into the site -o SITE (byte-identical to an "
                        "unsharded build); no PATH")
    d.add_argument("--debug", action="store_true", help="show gradflow's own traceback on errors")
    return parser


def _add_model_file_arguments(p: argparse.ArgumentParser, file_help: str, target_help: str,
                              inputs_help: str, *, formats: bool = False) -> None:
    """FILE, --target and --inputs: how every command names its model.

    With ``formats``, also --function (a SavedModel) and --loss (a GraphDef).
    """
    prefix = ".py file: " if formats else ""
    p.add_argument("file", metavar="FILE", help=file_help)
    p.add_argument("--target", metavar="NAME", help=prefix + target_help)
    p.add_argument("--inputs", metavar="NAME", help=prefix + inputs_help)
    if formats:
        p.add_argument("--function", metavar="NAME",
                       help="SavedModel: the exported function returning the loss, an attribute path "
                            "(loss, model.loss) or a signature key; inputs come from its signature")
        p.add_argument("--loss", metavar="TENSOR",
                       help="GraphDef: the loss tensor (name or name:0); the graph is analysed "
                            "statically, never run")


def _add_graph_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("graph outputs")
    g.add_argument("--svg", metavar="OUT", help="write the colour-coded gradient-flow graph as SVG")
    g.add_argument("--png", metavar="OUT", help="... as PNG")
    g.add_argument("--pdf", metavar="OUT", help="... as PDF")
    g.add_argument("--dot", metavar="OUT", help="... as Graphviz DOT source")
    g.add_argument("-o", "--output", metavar="OUT", action="append", default=[],
                   help="write the graph (or HTML report) in the format its suffix names; repeatable")
    g.add_argument("--html", metavar="OUT", help="write a self-contained HTML report (table + graph)")
    g.add_argument("--view", choices=("flow", "full"), default="flow",
                   help="flow: only variable-to-loss paths, trivial ops contracted (default); full: every op")
    g.add_argument("--collapse", type=_positive_int(minimum=0), metavar="DEPTH", default=None,
                   help="collapse name scopes deeper than DEPTH into single nodes (default: automatic)")
    g.add_argument("--focus", metavar="NAME",
                   help="draw only the paths from one variable (or scope) to the loss, fully expanded")
    g.add_argument("--render-timeout", type=_SECONDS, default=60.0, metavar="SECONDS",
                   help="stop Graphviz layout after this long (default: 60)")


def _graph_requests(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(path, format) pairs asked for on the command line, in a stable order."""
    from .writing import format_of

    requests = []
    for fmt in ("svg", "png", "pdf", "dot", "html"):
        path = getattr(args, fmt, None)
        if path:
            requests.append((path, fmt))
    for path in args.output:
        try:
            requests.append((path, format_of(path)))
        except RenderError as exc:
            raise UsageError(f"-o {exc}") from None
    return requests


def load_report(args: argparse.Namespace, progress: "Any" = None) -> "Report":
    """Inspect the model the arguments name (inspect and explain alike): :func:`~gradflow.api.inspect_file_quietly`."""
    from .api import inspect_file_quietly

    return inspect_file_quietly(args.file, target=args.target, inputs=args.inputs, function=args.function,
                                loss=args.loss, strict=args.debug, static=getattr(args, "static", False),
                                progress=progress)


def _inspect(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .render.text import visible
    from .writing import write_atomic

    from .baseline import cli_apply, cli_read
    from .progress import StageLine

    requests = _graph_requests(args)  # bad arguments fail before TensorFlow loads
    baseline = cli_read(args)
    written: list[str] = []
    with StageLine(enabled=args.format != "json") as line:
        report = load_report(args, progress=line)
        if requests:
            from .render.files import GraphOptions, write_outputs

            line("rendering")
            options = GraphOptions(view=args.view, collapse=args.collapse, focus=args.focus,
                                   timeout=args.render_timeout)
            write_outputs(report, requests, options)
            written += [path for path, _ in requests]
    json_text = report.to_json() + "\n" if args.json_out or args.format == "json" else None
    if args.json_out:
        write_atomic(args.json_out, json_text)
        written.append(args.json_out)
    if line.active:
        for path in written:
            Console(stderr=True, highlight=False, soft_wrap=True).print(f"wrote {path}", markup=False)
    if args.format == "json":
        sys.stdout.write(json_text)
    else:
        from .render.terminal import report_renderable

        console = stdout_console()
        from .render.text import Inert

        console.print(Inert(report_renderable(report, show_all=args.show_all, layers=args.layers)))
    code, accepted = cli_apply(args, report, baseline)
    if args.fail_on:
        matched = [v for v in report.variables if v.trainable and v.status.value in args.fail_on
                   and accepted.get(v.name) != v.status.value]  # a baseline accepts its recorded status
        # The contract: --fail-on matches every trainable variable; skipping the
        # benign ones is the user's explicit choice.
        hits = [v for v in matched if not (args.ignore_expected and v.expected)]
        skipped = [v for v in matched if v not in hits]
        if skipped:
            names = visible(", ".join(f"{v.name} ({v.status.value})" for v in skipped))
            Console(stderr=True, highlight=False, soft_wrap=True).print(
                f"--fail-on ignored expected (--ignore-expected): {names}", markup=False)
        if hits:
            names = visible(", ".join(f"{v.name} ({v.status.value})" for v in hits))
            Console(stderr=True, highlight=False, soft_wrap=True).print(f"--fail-on matched: {names}", markup=False)
            return 1
    return code


def _explain(args: argparse.Namespace) -> int:
    from .explain import explain_renderable
    from .schema import select

    report = load_report(args)
    try:
        chosen = select(report.variables, args.variables)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    if args.svg:
        from .render.files import render_path

        render_path(report, args.svg, focus=chosen[0].name)
    console = stdout_console(100)
    from .render.text import Inert

    console.print(Inert(explain_renderable(report, args.variables)))
    return 0


def stdout_console(default_width: int = 120) -> "Any":
    """The console for stdout: the terminal's width, else ``COLUMNS``, else ``default_width``."""
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        columns = os.environ.get("COLUMNS", "")
        width = int(columns) if columns.isdigit() and int(columns) > 0 else default_width
        console = Console(highlight=False, width=width)
    return console


def _docs(args: argparse.Namespace) -> int:
    """``gradflow docs PATHS... -o SITE/``: progress on stderr, the site from gradflow.site."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .render.text import rich_text
    from .site import DEFAULT_TIMEOUT, build_site, check_output_dir, find_models
    import functools

    from .sharding import build_part, merge_parts, parse_shard

    if args.merge is not None:
        if args.paths or args.shard:
            raise UsageError("--merge PART... takes no PATH and no --shard: it joins parts already built.")
        site = merge_parts(args.merge, args.output)
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"merged {len(args.merge)} parts: {len(site.results)} models, {len(site.failed)} failed; "
            f"{len(site.written)} files written, {len(site.unchanged)} unchanged", markup=False)
        return 1 if site.failed else 0
    if not args.paths:
        raise UsageError("gradflow docs needs model files, folders or globs (PATH...), or --merge PART...")
    shard = parse_shard(args.shard) if args.shard else None
    total = len(find_models(args.paths))
    check_output_dir(args.output)  # a bad -o fails before any model is analysed
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task("analysing models", total=total)

        def on_event(kind: str, model: str, result) -> None:
            if kind != "done":
                return
            mark = "[green]ok[/green]" if result.ok else "[red]failed[/red]"
            bar.console.print(f"{mark} {rich_text(model, newlines=False)}")
            bar.advance(task)

        build = functools.partial(build_part, shard=shard) if shard else build_site
        site = build(args.paths, args.output, fmt=args.format, jobs=args.jobs,
                          timeout=args.timeout or DEFAULT_TIMEOUT, on_event=on_event)
    index = "index.md" if args.format == "markdown" else "index.html"
    if shard:  # a part has no index: its part file is what --merge reads
        from .sharding import PART_FILE as index
    for model, stem in site.renamed:
        console.print(f"page name collision: {rich_text(model, newlines=False)} is written as "
                      f"{rich_text(stem)}{'.md' if args.format == 'markdown' else '.html'}")
    if site.interrupted:
        import signal

        console.print(f"[yellow]interrupted[/yellow] ({signal.Signals(site.interrupted).name}): the site holds "
                      f"the {sum(r.error_type != 'Interrupted' for r in site.results)} models that finished")
    console.print(f"{len(site.results)} models, {len(site.failed)} failed; "
                  f"{len(site.written)} files written, {len(site.unchanged)} unchanged"
                  + (f", {len(site.removed)} removed" if site.removed else "") + ": "
                  f"{rich_text(os.path.join(args.output, index), newlines=False)}")
    for r in site.failed:
        if r.error_type != "Interrupted":
            console.print(f"[red]failed[/red] {rich_text(r.path, newlines=False)}: {rich_text(r.error_type)}: "
                          f"{rich_text((r.error.splitlines() or [''])[0])}")
    if site.interrupted:
        return site.interrupted + 128
    return 1 if site.failed else 0


def _print_error(exc: BaseException) -> None:
    from rich.console import Console

    from .render.text import rich_text

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(f"[red]{type(exc).__name__}[/red]: {rich_text(str(exc))}")
    user_tb = getattr(exc, "user_traceback", None)
    if user_tb:
        console.print(rich_text(user_tb), style="dim")


def _print_traceback_if(debug: bool) -> None:
    """With ``--debug``: the whole traceback of the exception being handled, gradflow's frames too."""
    if debug:
        import traceback

        traceback.print_exc(file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    import threading

    threads_before = set(threading.enumerate())
    if args.command in ("inspect", "diff") and _is_main_program():  # ends by _skip_teardown
        from .api import one_shot_process

        one_shot_process()
    previous_handler = _terminate_on_sigterm()
    try:
        code = _run(args)
    finally:
        if previous_handler is not None:
            import signal

            signal.signal(signal.SIGTERM, previous_handler)
    _exit_despite_user_threads(threads_before, code)
    if args.command in ("inspect", "diff") and _is_main_program():
        _skip_teardown(code)
    return code


def _skip_teardown(code: int) -> None:
    """End the process now: everything is written, and tearing down TensorFlow's graphs and
    the traced model at interpreter exit costs seconds on a large model (a good part of what
    ``--static`` saves). Only when gradflow is the program, never inside a caller's process."""
    import logging

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _terminate_on_sigterm():
    """SIGTERM raises :class:`Terminated` (clean-up runs, temp files go, exit 143); returns the old handler."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        from .errors import Terminated

        raise Terminated(signum)

    return signal.signal(signal.SIGTERM, handler)


def _exit_despite_user_threads(threads_before: set, code: int) -> None:
    """The user's module left non-daemon threads running: end the process now, after the report."""
    import threading

    left = [t for t in threading.enumerate()
            if t not in threads_before and t.is_alive() and not t.daemon and t is not threading.current_thread()]
    if left and _is_main_program():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _is_main_program() -> bool:
    """gradflow is the program (``python -m gradflow``, the ``gradflow`` script), not a library call."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name in ("gradflow", "gradflow.__main__"):
        return True
    return os.path.basename(sys.argv[0] if sys.argv else "") == "gradflow"


def _run_model_command(args: argparse.Namespace) -> int:
    if args.command == "train":
        return _train(args)
    if args.command == "explain":
        return _explain(args)
    if args.command == "diff":
        return _diff(args)
    return _inspect(args)


OUTPUT_ARGUMENTS = ("svg", "png", "pdf", "dot", "html", "json_out", "plot", "plot_layers")


def _refuse_writing_over_the_model(args: argparse.Namespace) -> None:
    """An output path that names the model file itself is a usage error (exit 2), before anything runs."""
    from .writing import refuse_overwriting

    model = getattr(args, "file", None)
    if not model:
        return
    outputs = [getattr(args, name, None) for name in OUTPUT_ARGUMENTS]
    outputs += list(getattr(args, "output", None) or []) if args.command != "docs" else []
    refuse_overwriting([o for o in outputs if o], [model])


def _run(args: argparse.Namespace) -> int:
    """One command; every exception becomes an exit code and a short message."""
    from .errors import Terminated
    from .workers import exit_guard

    try:
        _refuse_writing_over_the_model(args)
        if args.command == "docs":
            return _docs(args)
        if args.command == "run":
            return _run_script(args)
        with exit_guard(f"the model file {getattr(args, 'file', '')}"):
            return _run_model_command(args)
    except UserError as exc:
        _print_traceback_if(args.debug)
        _print_error(exc)
        return exc.exit_code
    except GradflowError as exc:
        _print_traceback_if(args.debug)
        _print_error(exc)
        return 3
    except Terminated as exc:
        return exc.signum + 128  # 143 for SIGTERM
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a gradflow bug: say so, briefly
        _print_traceback_if(args.debug)
        from rich.console import Console
        from rich.markup import escape

        from .render.text import visible

        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"[red]internal error[/red]: {type(exc).__name__}: {escape(visible(str(exc)))}\n"
            "This is a gradflow bug. Re-run with --debug for the traceback and please report it."
        )
        return 3


def _diff_side(path: str, args: argparse.Namespace) -> dict:
    """One side of ``diff`` as a report dict: a saved JSON as it is, a model file inspected on the spot."""
    from .diff import is_json_side, load_report_json

    if is_json_side(path):
        return load_report_json(path)
    from .api import inspect_file_quietly

    return inspect_file_quietly(path, target=args.target, inputs=args.inputs, strict=args.debug,
                                static=args.static).to_dict()


def _diff(args: argparse.Namespace) -> int:
    """``gradflow diff BEFORE AFTER``: print the diff, write the asked files, exit 1 on a failing change."""
    from rich.console import Console

    from .diff import check_fail_on, diff_reports, failing
    from .render.diff_view import diff_markdown, diff_renderable, write_picture
    from .render.text import visible
    from .writing import format_of, write_atomic

    fail_on = check_fail_on(args.fail_on)
    pictures = list(args.output) + ([args.svg] if args.svg else [])
    for path in pictures:  # a bad suffix fails before any model is inspected
        if format_of(path) == "html":
            raise UsageError(f"-o {path}: the diff picture is .svg, .png, .pdf or .dot, not HTML.")
    before = _diff_side(args.before, args)
    after = _diff_side(args.after, args)
    diff = diff_reports(before, after, before_name=args.before, after_name=args.after)
    for path in pictures:
        write_picture(diff, path, timeout=args.render_timeout)
    if args.json_out:
        write_atomic(args.json_out, diff.to_json() + "\n")
    if args.markdown_out:
        write_atomic(args.markdown_out, diff_markdown(diff))
    if args.format == "json":
        sys.stdout.write(diff.to_json() + "\n")
    elif args.format == "markdown":
        sys.stdout.write(diff_markdown(diff))
    else:
        console = Console(highlight=False)
        if not console.is_terminal:
            console = Console(highlight=False, width=120)
        console.print(diff_renderable(diff))
    hits = failing(diff, fail_on)
    if hits:
        names = ", ".join(f"{c.name} ({c.kind})" for c in hits)
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"--fail-on matched: {visible(names)}", markup=False)
        return 1
    return 0


def _run_script(args: argparse.Namespace) -> int:
    """``gradflow run``: run the script, print each gradient site's report as it is made, write the files."""
    from rich.console import Console

    from .runner import ScriptError, run_script
    from .watching import site_renderable
    from .writing import write_atomic

    text = args.format == "text"  # --steps is at least 1 by its argparse type
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=120)

    def show(item: "Any") -> None:
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
            _write_run_outputs(partial, args, text=False, write_atomic=write_atomic)
        raise
    _write_run_outputs(result, args, text=text, write_atomic=write_atomic)
    for error in result.errors:
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"gradflow could not analyse {error}", markup=False)
    if args.fail_on:
        hits = [f"{item.site.file}:{item.site.line} {v.name} ({v.status.value})"
                for item in result.sites for v in item.report.variables
                if v.trainable and v.status.value in args.fail_on]
        if hits:
            Console(stderr=True, highlight=False, soft_wrap=True).print(
                "--fail-on matched: " + ", ".join(hits), markup=False)
            return 1
    return 0


def _write_run_outputs(result: "Any", args: argparse.Namespace, *, text: bool, write_atomic: "Any") -> None:
    import json

    from .render.files import run_html
    from .runner import RUN_SCHEMA, run_to_dict

    data = json.dumps(run_to_dict(result), indent=2, ensure_ascii=False)
    if args.json_out:
        write_atomic(args.json_out, data + "\n")
    if args.html_out:
        write_atomic(args.html_out, run_html(result.script, result.sites, RUN_SCHEMA))
    if args.format == "json":
        sys.stdout.write(data + "\n")


def _train(args: argparse.Namespace) -> int:
    """``gradflow train``: parse-level checks, run, write outputs; returns the exit code."""
    import time

    from rich.console import Console

    from .render.train_view import train_renderable
    from .training.optimizers import check_options
    from .training.result import PLOT_SUFFIXES
    from .training.run import train_file
    from .writing import write_atomic

    check_options(args.steps, args.optimizer, args.lr)
    for option, path in (("--plot", args.plot), ("--plot-layers", args.plot_layers)):
        if path and not path.lower().endswith(PLOT_SUFFIXES):
            raise TrainOptionsError(f"{option} {path}: use a file name ending in .svg, .png or .pdf.")
    # The user's module may print; stdout belongs to the report alone.
    with contextlib.redirect_stdout(sys.stderr):
        import_tensorflow()
        report = train_file(args.file, target=args.target, inputs=args.inputs, steps=args.steps,
                            optimizer=args.optimizer, lr=args.lr, progress=True)
    start = time.perf_counter()
    if args.plot:
        report.plot(args.plot)
    if args.plot_layers:
        report.plot_layers(args.plot_layers)
    report.timings["render_s"] = time.perf_counter() - start
    if args.json_out:
        write_atomic(args.json_out, report.to_json() + "\n")
    if args.format == "json":
        sys.stdout.write(report.to_json() + "\n")
    else:
        from .render.text import Inert

        Console(highlight=False).print(Inert(train_renderable(report)))
    return 0
