"""Recording a run: values, gradient statistics and losses, step by step (NumPy in, tuples out)."""

from __future__ import annotations

import math
from typing import Any, Sequence

__all__ = ["Recorder", "sample_indices", "as_float64", "SMALL_VARIABLE", "SAMPLED_ELEMENTS"]

SMALL_VARIABLE = 16  # variables up to this many elements are recorded element by element
SAMPLED_ELEMENTS = 5  # ...larger ones by norm, mean and this many fixed elements


class Recorder:
    """Collects values, gradient statistics and losses step by step (numpy in, tuples out)."""

    def __init__(self, refs: list, trained: set[str]) -> None:
        import numpy as np

        self.refs = refs
        self.trained = trained
        self.indices: dict[str, Any] = {}
        self.values: dict[str, list] = {r.name: [] for r in refs}
        self.norms: dict[str, list] = {r.name: [] for r in refs}
        self.means: dict[str, list] = {r.name: [] for r in refs}
        self.sizes: dict[str, int] = {}
        self.grads: dict[str, list | None] = {}
        self.first_bad_grad: dict[str, int | None] = {r.name: None for r in refs}
        self.first_bad_value: dict[str, int | None] = {r.name: None for r in refs}
        self.changed: dict[str, int] = {r.name: 0 for r in refs}
        self.first: dict[str, Any] = {}
        self.last: dict[str, bytes] = {}
        self.loss: list[float] = []
        self.first_bad_step: int | None = None
        self._np = np

    def values_at(self, step: int, arrays: Sequence[Any]) -> None:
        np = self._np
        for ref, array in zip(self.refs, arrays):
            array = np.asarray(array)
            name = ref.name
            flat = array.reshape(-1)
            if name not in self.indices:
                self.sizes[name] = flat.size
                self.indices[name] = sample_indices(flat.size)
                self.first[name] = array.copy()
            numeric = as_float64(flat)
            idx = self.indices[name]
            self.values[name].append(tuple(float(v) for v in numeric[idx]))
            with np.errstate(all="ignore"):
                self.norms[name].append(float(np.sqrt(np.sum(np.square(np.abs(numeric))))) if flat.size else 0.0)
                self.means[name].append(float(np.mean(numeric.real)) if flat.size else 0.0)
            if self.first_bad_value[name] is None and not _all_finite(flat):
                self.first_bad_value[name] = step
            raw = flat.tobytes()
            if step > 0 and raw != self.last[name]:
                self.changed[name] += 1
            self.last[name] = raw

    def step_at(self, step: int, loss: Any, grad_stats: dict[str, Any]) -> None:
        """``grad_stats``: name -> (norm, abs_mean, abs_max, finite) for variables with a gradient."""
        np = self._np
        value = float(np.sum(np.real(np.asarray(loss, dtype=np.complex128 if np.iscomplexobj(loss) else np.float64))))
        self.loss.append(value)
        bad = not math.isfinite(value)
        for name, stats in grad_stats.items():
            series = self.grads.setdefault(name, [])
            norm, mean, big, finite = (float(stats[0]), float(stats[1]), float(stats[2]), bool(stats[3]))
            if not finite:
                norm = norm if not math.isfinite(norm) else math.nan
                if self.first_bad_grad[name] is None:
                    self.first_bad_grad[name] = step
                bad = True
            series.append((norm, mean, big))
        if bad and self.first_bad_step is None:
            self.first_bad_step = step


def sample_indices(size: int) -> Any:
    """The flat indices recorded for a variable of ``size`` elements.

    Every element up to 16; beyond that ``SAMPLED_ELEMENTS`` evenly spaced ones,
    always including the first and the last.

    >>> sample_indices(3).tolist(), sample_indices(100).tolist()
    ([0, 1, 2], [0, 25, 50, 74, 99])
    """
    import numpy as np

    if size <= SMALL_VARIABLE:
        return np.arange(size)
    return np.unique(np.linspace(0, size - 1, SAMPLED_ELEMENTS).round().astype(np.int64))


def as_float64(flat: Any) -> Any:
    import numpy as np

    if np.iscomplexobj(flat):
        return np.abs(flat).astype(np.float64)
    if flat.dtype == bool:
        return flat.astype(np.float64)
    try:
        return flat.astype(np.float64)
    except (TypeError, ValueError):
        return np.zeros(flat.shape, dtype=np.float64)


def _all_finite(flat: Any) -> bool:
    import numpy as np

    if flat.dtype.kind not in "fc" and str(flat.dtype) != "bfloat16":
        return True
    return bool(np.all(np.isfinite(flat.astype(np.complex128 if flat.dtype.kind == "c" else np.float64))))
