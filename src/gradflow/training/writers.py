"""Variables written by something other than an optimizer step (an ``assign`` in the loss, BatchNorm)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

__all__ = ["write_ops_by_variable", "describe_writer", "is_optimizer_write"]

# Op types that write a variable's value. Optimizer kernels (Apply*) write a
# gradient step; everything else (Assign*, Scatter*) is some other update.
_OPTIMIZER_WRITE_PREFIXES = ("Apply", "ResourceApply", "SparseApply", "ResourceSparseApply")
_OTHER_WRITE_PREFIXES = ("Assign", "Scatter", "ResourceScatter")


def write_ops_by_variable(ops: Sequence[Any], resolve: Callable[[Any], Any]) -> dict[int, list]:
    """id(tf.Variable) -> [op] for ops in ``ops`` that write a variable (``resolve(op.inputs[0])``)."""
    found: dict[int, list] = {}
    for op in ops:
        if not op.type.startswith(_OTHER_WRITE_PREFIXES + _OPTIMIZER_WRITE_PREFIXES) or not op.inputs:
            continue
        var = resolve(op.inputs[0])
        if var is not None:
            found.setdefault(id(var), []).append(op)
    return found


def describe_writer(op: Any, source: str | None) -> str:
    """The op as the report names it: ``name (Type)``, and its line in ``source`` when known."""
    from ..sources import LocationResolver

    text = op.name if op.name == op.type else f"{op.name} ({op.type})"
    if source:
        try:
            location = LocationResolver(source).location(op.traceback)
        except Exception:  # noqa: BLE001 - ops without a recorded traceback
            location = None
        if location is not None and location.file == source:
            text += f" at {location}"
    return text


def is_optimizer_write(op: Any) -> bool:
    """Whether ``op`` is an optimizer kernel (``Apply*``): a gradient step, not some other update."""
    return op.type.startswith(_OPTIMIZER_WRITE_PREFIXES)
