"""``with gradflow.watch() as w:``: report on every gradient site of the code inside.

```python
with gradflow.watch() as w:
    train(model, dataset)        # any code: tape.gradient, model.fit, tf.gradients...
w.reports                        # one SiteReport per gradient site
```

Each report is shown as it is made: printed to the terminal, or displayed in a
notebook. The interception exists only inside the ``with`` block.
"""

from __future__ import annotations

from typing import Any

from .intercept import Interceptor, SiteReport

__all__ = ["watch", "Watch", "show_site"]


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython  # type: ignore[import-not-found]
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def site_renderable(item: SiteReport) -> Any:
    """The terminal view of one site: its heading, then the report."""
    from rich.console import Group
    from rich.text import Text

    from .render.terminal import report_renderable

    from .render.text import visible

    return Group(Text(visible(item.site.heading()), style="bold"), report_renderable(item.report))


def show_site(item: SiteReport) -> None:
    """Show one site's report as it is made (terminal, or notebook display)."""
    if _in_notebook():
        from IPython.display import HTML, display  # type: ignore[import-not-found]

        from .render.text import html_text

        display(HTML(f"<h3>{html_text(item.site.heading())}</h3>" + item.report._repr_html_()))
        return
    from rich.console import Console

    Console(stderr=True, highlight=False).print(site_renderable(item))


class Watch:
    """The handle ``gradflow.watch()`` gives: ``reports`` fills while the block runs.

    Attributes:
        reports: one :class:`~gradflow.intercept.SiteReport` per gradient site, in order.
        errors: sites gradflow could not analyse (the script runs on regardless).
    """

    def __init__(self, *, show: bool = True, steps: int | None = None) -> None:
        self._interceptor = Interceptor(show_site if show else None, steps=steps)

    @property
    def reports(self) -> list[SiteReport]:
        return self._interceptor.reports

    @property
    def errors(self) -> list[str]:
        return self._interceptor.errors

    def __enter__(self) -> "Watch":
        self._interceptor.install()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._interceptor.finish()
        self._interceptor.uninstall()


def watch(*, show: bool = True, steps: int | None = None) -> Watch:
    """Report on every gradient site of the code run inside the ``with`` block.

    Args:
        show: show each report as it is made (terminal on stderr, or notebook display).
        steps: analyse at most this many gradient sites.

    Returns:
        A :class:`Watch`; its ``reports`` list fills as sites are analysed.

    Example:
        ```python
        with gradflow.watch() as w:
            model.fit(x, y, epochs=1)
        assert all(v.status == "flows" for v in w.reports[0].report.variables)
        ```
    """
    return Watch(show=show, steps=steps)
