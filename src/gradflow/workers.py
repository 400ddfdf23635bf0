"""Isolated, persistent worker processes (``gradflow docs``), and guards for running user code.

A :class:`WorkerPool` runs one function over many inputs, each call in one of
``jobs`` worker processes. A worker lives across calls, so it pays its
start-up (importing TensorFlow) once, but every call is still isolated from the
others where it matters:

- a call that kills its process (``os._exit``, a segfault, the kernel's OOM
  killer, SIGKILL) fails that input alone; a fresh worker takes the next one;
- a call that runs longer than ``timeout`` seconds has its worker's whole
  process group killed, and fails with a timeout;
- every worker runs in its own session (process group), so Ctrl-C in the
  terminal reaches the parent only; the parent kills every worker group when it
  is done, interrupted (KeyboardInterrupt, SIGTERM) or fails, and each worker
  also dies with its parent (``PR_SET_PDEATHSIG`` on Linux): no orphans.

The pool never prints; it reports through the ``on_event`` callback.

The module also holds :func:`exit_guard`, which turns ``os._exit`` called by
the user's code into an exception while gradflow runs that code.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from .errors import ModelExitError

__all__ = ["WorkerPool", "Outcome", "exit_guard", "describe_exit"]


@dataclass
class Outcome:
    """How one call ended.

    ``kind``: ``"ok"`` (``value`` is the function's result), ``"error"`` (the
    function raised; ``detail`` says what), ``"crashed"`` (the worker process
    died; ``detail`` says how), or ``"timeout"``.
    """

    kind: str
    value: Any = None
    detail: str = ""
    seconds: float = 0.0


def describe_exit(returncode: int | None) -> str:
    """Say how a process ended, from its return code (negative: a signal)."""
    if returncode is None:
        return "the process vanished"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        hint = " (the out-of-memory killer, or someone's kill -9?)" if -returncode == signal.SIGKILL else ""
        return f"the process was killed by {name}{hint}"
    return f"the process exited with code {returncode} (os._exit or a fatal error in native code)"


# -- the worker side --------------------------------------------------------------
def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies; exit now if it already has."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux: the parent still kills the group
        pass
    if os.getppid() != parent:
        os._exit(0)


def _resolve(spec: str) -> Callable:
    import importlib

    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _worker_main(argv: Sequence[str]) -> None:
    """``python -m gradflow.workers RFD WFD PARENT SETUP FUNC``: serve calls until EOF."""
    from multiprocessing.connection import Connection

    rfd, wfd, parent = int(argv[0]), int(argv[1]), int(argv[2])
    _die_with_parent(parent)
    inbox = Connection(rfd, writable=False)
    outbox = Connection(wfd, readable=False)
    setup, func = _resolve(argv[3]) if argv[3] != "-" else None, _resolve(argv[4])
    if setup is not None:
        setup()
    outbox.send(("ready", None))
    while True:
        try:
            args = inbox.recv()
        except (EOFError, OSError):
            os._exit(0)
        if args is None:
            os._exit(0)
        try:
            value = func(*args)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, never fatal here
            outbox.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            outbox.send(("ok", value))


# -- the parent side --------------------------------------------------------------
class _Worker:
    """One worker process: its pipes, the call it runs and since when."""

    def __init__(self, setup: str, func: str) -> None:
        from multiprocessing.connection import Connection

        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        env = dict(os.environ)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        # The worker must import this very gradflow (a checkout, an editable install, PYTHONPATH).
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = os.pathsep.join([here] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gradflow.workers", str(to_r), str(from_w), str(os.getpid()), setup, func],
                pass_fds=(to_r, from_w), start_new_session=True, env=env,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        finally:
            os.close(to_r)
            os.close(from_w)
        self.inbox = Connection(from_r, writable=False)
        self.outbox = Connection(to_w, readable=False)
        self.ready = False
        self.task: int | None = None
        self.since = time.monotonic()

    def kill(self) -> None:
        """SIGKILL the worker's whole process group (anything the model started too), then reap it."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=10)
        for conn in (self.inbox, self.outbox):
            with contextlib.suppress(OSError):
                conn.close()


# Importing TensorFlow can take a while on a busy machine; a worker that does
# not start in this long (or the call's timeout, if longer) is replaced.
START_TIMEOUT = 300.0


class WorkerPool:
    """Run ``func(*args)`` for every ``args`` in isolated, reused worker processes.

    Args:
        func: ``"module:function"``, importable in a fresh interpreter; its
            result must pickle.
        setup: ``"module:function"`` run once when a worker starts (import
            the heavy libraries there), or None.
        jobs: how many workers run at once.
        timeout: seconds one call may take before its worker is killed.
    """

    def __init__(self, func: str, *, setup: str | None = None, jobs: int = 1, timeout: float = 600.0) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {jobs}")
        if not (timeout > 0 and math.isfinite(timeout)):
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout}")
        self.func, self.setup, self.jobs, self.timeout = func, setup or "-", jobs, timeout

    def _deadline(self, w: _Worker) -> float | None:
        if w.task is not None:
            return w.since + self.timeout
        if not w.ready:
            return w.since + max(self.timeout, START_TIMEOUT)
        return None

    def run(self, calls: Sequence[tuple], on_event: Callable[[str, int, Outcome | None], None] | None = None
            ) -> list[Outcome]:
        """Run every call; returns one :class:`Outcome` per call, in order.

        ``on_event(kind, index, outcome)`` is called with ``"start"`` when a
        call starts on a worker and ``"done"`` when it ends.

        A KeyboardInterrupt (or :class:`~gradflow.errors.Terminated`) kills
        every worker and propagates; the outcomes so far are on ``self.done``.
        """
        from multiprocessing.connection import wait

        notify = on_event or (lambda kind, index, outcome: None)
        pending = list(range(len(calls)))
        pending.reverse()  # pop() takes the first
        self.done: dict[int, Outcome] = {}
        workers: list[_Worker] = []
        start_failures = 0
        try:
            while len(self.done) < len(calls):
                # Keep `jobs` workers alive while there is work no worker holds.
                want = min(self.jobs, sum(w.task is not None for w in workers) + len(pending))
                while len(workers) < want:
                    workers.append(_Worker(self.setup, self.func))
                for w in workers:
                    if w.ready and w.task is None and pending:
                        w.task = pending.pop()
                        w.since = time.monotonic()
                        try:
                            w.outbox.send(tuple(calls[w.task]))
                        except OSError:  # died while idle: noticed below as EOF
                            pass
                        notify("start", w.task, None)
                now = time.monotonic()
                deadlines = [d for d in map(self._deadline, workers) if d is not None]
                wait_for = max(0.0, min(deadlines) - now) if deadlines else None
                readable = wait([w.inbox for w in workers], timeout=wait_for)
                now = time.monotonic()
                for w in list(workers):
                    outcome = None
                    if w.inbox in readable:
                        try:
                            kind, value = w.inbox.recv()
                        except (EOFError, OSError):
                            with contextlib.suppress(Exception):
                                w.proc.wait(timeout=5)
                            outcome = Outcome("crashed", detail=describe_exit(w.proc.returncode))
                        else:
                            if kind == "ready":
                                w.ready, start_failures = True, 0
                                continue
                            outcome = Outcome(kind, value=value if kind == "ok" else None,
                                              detail=value if kind == "error" else "")
                    elif (self._deadline(w) or math.inf) <= now:
                        outcome = Outcome("timeout", detail=f"it ran longer than {self.timeout:g} s")
                    if outcome is None:
                        continue
                    if outcome.kind in ("crashed", "timeout"):
                        w.kill()
                        workers.remove(w)
                        if not w.ready:  # it died before taking a call: TensorFlow itself cannot start?
                            start_failures += 1
                            if start_failures >= 3:
                                raise RuntimeError(f"gradflow's worker process cannot start: {outcome.detail}")
                            continue
                    if w.task is None:
                        continue
                    outcome.seconds = now - w.since
                    self.done[w.task] = outcome
                    notify("done", w.task, outcome)
                    w.task = None
        finally:
            for w in workers:
                w.kill()
        return [self.done[i] for i in range(len(calls))]


# -- guards for the user's code -----------------------------------------------------
@contextlib.contextmanager
def exit_guard(what: str) -> Iterator[None]:
    """While the user's code runs, ``os._exit(N)`` raises :class:`ModelExitError` instead.

    A model file that ends the process at import or while traced would
    otherwise make gradflow exit silently with the model's code (0 reads as
    "all is well", 1 as "--fail-on matched"). Child processes the user's code
    forks keep the real ``os._exit``.
    """
    real_exit, pid = os._exit, os.getpid()

    def guarded_exit(code: int) -> None:
        if os.getpid() != pid:
            real_exit(code)
        raise ModelExitError(f"{what} called os._exit({code}), which would end gradflow without a report. "
                             "Remove the os._exit call (or guard it with `if __name__ == \"__main__\":`).")

    os._exit = guarded_exit
    try:
        yield
    finally:
        os._exit = real_exit


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
