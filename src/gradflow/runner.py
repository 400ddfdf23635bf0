"""``gradflow run SCRIPT.py [ARGS...]``: run an unmodified training script and report every gradient site.

The script runs as ``__main__`` (its folder first on ``sys.path``, ``sys.argv``
its own), like ``python -m cProfile``. :class:`~gradflow.intercept.Interceptor`
reports each gradient site once; by default the script is stopped cleanly at
the start of the first step after which every site seen has been analysed.
"""

from __future__ import annotations

import contextlib
import os
import runpy
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from .errors import UserError
from .intercept import Interceptor, SiteReport, StopScript
from .tfquiet import import_tensorflow

__all__ = ["RunResult", "run_script", "ScriptError", "run_to_dict", "RUN_SCHEMA"]

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
