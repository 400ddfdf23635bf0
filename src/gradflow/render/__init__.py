"""Renderers: each takes a finished :class:`~gradflow.report.Report` and never re-runs analysis."""
