"""Pure functions over the analysis graph: no TensorFlow, no I/O, no mutation.

Each takes the graph ``G`` first. Edges carry ``open`` (the gradient passes
back along them), ``cut`` (why it does not) and ``via`` (``loop`` marks the
back edges of a ``While``). See :mod:`gradflow.flowgraph` for the attributes.
"""

from .blockers import blockers_by_source, blockers_of, shields
from .paths import PathCount, count_paths
from .reach import forward_ancestors, open_ancestors, open_subgraph, reached
from .separators import Separators, cut_owner, decisive_cuts

__all__ = [
    "PathCount",
    "Separators",
    "blockers_by_source",
    "blockers_of",
    "count_paths",
    "cut_owner",
    "decisive_cuts",
    "forward_ancestors",
    "open_ancestors",
    "open_subgraph",
    "reached",
    "shields",
]
