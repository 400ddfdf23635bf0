"""``gradflow.keras.GradflowCallback``: gradient flow of ``model.fit``'s train step, from inside ``fit``.

```python
model.fit(x, y, callbacks=[gradflow.keras.GradflowCallback()])          # report on the first batch
model.fit(x, y, callbacks=[gradflow.keras.GradflowCallback(every=50)])  # and layer norms every 50 batches
```

(Inside gradflow, ``import keras`` is still the real Keras: imports are absolute.)
"""

from __future__ import annotations

import math
from typing import Any

import keras as _keras

from .intercept import Interceptor, SiteReport

__all__ = ["GradflowCallback", "LayerFlag"]

VANISHING = 1e-7
EXPLODING = 1e3


class LayerFlag:
    """A layer whose gradient norm looked wrong at one check: ``vanishing`` or ``exploding``."""

    def __init__(self, batch: int, layer: str, norm: float, kind: str) -> None:
        self.batch, self.layer, self.norm, self.kind = batch, layer, norm, kind

    def __repr__(self) -> str:
        return f"LayerFlag(batch={self.batch}, layer={self.layer!r}, norm={self.norm:.3g}, kind={self.kind!r})"


def _layer_of(name: str) -> str:
    return name.rsplit("/", 1)[0] if "/" in name else name


class GradflowCallback(_keras.callbacks.Callback):
    """Report the train step's gradient flow on the first batch of ``fit``.

    Args:
        every: every ``every`` batches, re-check the train step's gradients on
            that batch (each variable's status and norm: ``checks``), record the
            per-layer gradient norms (``norms``) and flag layers whose norm falls
            under ``vanishing`` or exceeds ``exploding`` (or is not finite).
            None: the first batch only.
        show: print each report as it is made.
        vanishing, exploding: the thresholds on a layer's gradient L2 norm.

    Attributes:
        reports: the :class:`~gradflow.intercept.SiteReport` s of the train step.
        checks: batch -> the train step's reports on that batch, every ``every``
            batches (batch 0 is ``reports``). A re-check whose statuses differ
            from the last one's (a variable turned ``zero`` or ``nonfinite``)
            is shown when ``show``.
        norms: batch -> {layer: gradient norm}, every ``every`` batches.
        flags: the :class:`LayerFlag` s raised.
    """

    def __init__(self, every: int | None = None, *, show: bool = True,
                 vanishing: float = VANISHING, exploding: float = EXPLODING) -> None:
        super().__init__()
        if every is not None and every < 1:
            raise ValueError(f"every must be at least 1 (got {every})")
        self.every = every
        self.show = show
        self.vanishing, self.exploding = vanishing, exploding
        self.reports: list[SiteReport] = []
        self.checks: dict[int, list[SiteReport]] = {}
        self.norms: dict[int, dict[str, float]] = {}
        self.flags: list[LayerFlag] = []
        self._interceptor: Interceptor | None = None
        self._traced: list = []  # (report before values, slots) of each traced site
        self._armed = False
        self._slots: dict[str, Any] = {}
        self._batch = 0

    # -- the interception, first batch only -------------------------------------
    def _norm_hook(self, sources: list, names: list, results: list) -> None:
        """At trace time: keep each layer's gradient norm in a variable the step assigns."""
        if self.every is None:
            return
        import tensorflow as tf

        per_layer: dict[str, list] = {}
        for name, g in zip(names, results):
            if g is None:
                continue
            if isinstance(g, tf.IndexedSlices):
                g = g.values
            per_layer.setdefault(_layer_of(name), []).append(tf.reduce_sum(tf.square(tf.cast(g, tf.float32))))
        for layer, squares in per_layer.items():
            slot = self._slots.get(layer)  # tf.function traces again after a trace made variables
            if slot is None:
                with tf.init_scope():
                    slot = tf.Variable(float("nan"), trainable=False, dtype=tf.float32, name="gradflow_norm")
                self._slots[layer] = slot
            slot.assign(tf.sqrt(tf.add_n(squares)))

    def on_train_begin(self, logs: Any = None) -> None:
        from .watching import show_site

        self._interceptor = Interceptor(show_site if self.show else None, grad_hook=self._norm_hook)
        self._interceptor.install()

    def _uninstall(self) -> None:
        if self._interceptor is not None:
            self._interceptor.finish()
            self._interceptor.uninstall()
            self.reports.extend(self._interceptor.reports)
            self._traced.extend(self._interceptor.traced_checks)
            if self.every is not None and self.reports:
                self.checks.setdefault(self._batch, list(self.reports))
            self._interceptor = None

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        if self.every is None or not self._traced or self._batch % self.every:
            return
        from .traced import arm

        for _, slots in self._traced:
            arm(slots)
        self._armed = True

    def _recheck(self, step: int) -> None:
        """Read the checks the step just filled into new reports; show them when a status changed."""
        from .traced import with_values

        self._armed = False
        previous = self.checks[max(self.checks)] if self.checks else []
        made = []
        for base, slots in self._traced:
            try:
                made.append(SiteReport(base.site, with_values(base.report, slots), base.source_ids, base.target_ids))
            except Exception:  # noqa: BLE001 - the step did not run this site on this batch
                continue
        if not made:
            return
        self.checks[step] = made
        if self.show:
            from .watching import show_site

            before = {(p.site, v.name): v.status for p in previous for v in p.report.variables}
            for item in made:
                if any(before.get((item.site, v.name), v.status) != v.status for v in item.report.variables):
                    show_site(item)

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        self._uninstall()
        step = self._batch
        self._batch += 1
        if self._armed:
            self._recheck(step)
        if self.every is None or step % self.every or not self._slots:
            return
        norms = {layer: float(slot.numpy()) for layer, slot in self._slots.items()}
        self.norms[step] = norms
        for layer, norm in norms.items():
            if not math.isfinite(norm) or norm > self.exploding:
                self.flags.append(LayerFlag(step, layer, norm, "exploding"))
            elif norm < self.vanishing:
                self.flags.append(LayerFlag(step, layer, norm, "vanishing"))

    def on_train_end(self, logs: Any = None) -> None:
        self._uninstall()
