"""Progress: the stage a long inspection is in, with elapsed time.

The API reports stages through a callback (``progress=`` on
:func:`gradflow.inspect_file`, :func:`gradflow.inspect`); only the CLI prints
them, as one stage line on a terminal's stderr (never when stderr is not a
terminal, never with ``--format json``).
"""

from __future__ import annotations

import sys
from typing import Any, Callable

__all__ = ["ProgressCallback", "stage", "StageLine"]

ProgressCallback = Callable[[str], None]


def stage(callback: ProgressCallback | None, text: str) -> None:
    """Tell ``callback`` (when there is one) that ``text`` is the stage now running."""
    if callback is not None:
        callback(text)


class StageLine:
    """A transient stage line on stderr: spinner, stage, elapsed time.

    Use as a context manager; call it with each stage's text. Inactive (prints
    nothing) unless ``enabled`` and stderr is a terminal.
    """

    def __init__(self, *, enabled: bool = True, stream: Any = None) -> None:
        stream = stream if stream is not None else sys.stderr
        self.active = bool(enabled and getattr(stream, "isatty", lambda: False)())
        self._progress: Any = None
        self._task: Any = None
        self._stream = stream

    def __enter__(self) -> "StageLine":
        if self.active:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            console = Console(file=self._stream, highlight=False)
            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                      console=console, transient=True)
            self._progress.start()
            self._task = self._progress.add_task("starting", total=None)
        return self

    def __call__(self, text: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=text)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __exit__(self, *exc: Any) -> None:
        self.stop()
