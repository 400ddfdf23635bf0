"""What each training step is fed: ``example_batches`` (cycled) or the example inputs."""

from __future__ import annotations

import itertools
import sys
from typing import Any, Iterator

from ..errors import InputsError

__all__ = ["BATCHES_ATTR", "Batches", "split_batch", "tf1_feed"]

BATCHES_ATTR = "example_batches"


class Batches:
    """Cycles through the inputs of each step: ``example_batches`` or the example inputs.

    ``example_batches`` may be a list/tuple of batches, a ``tf.data.Dataset``, a
    zero-argument function returning an iterable, or an iterator (whose items
    are kept, so that it can be cycled once exhausted).
    """

    def __init__(self, source: Any, *, label: str) -> None:
        self.label = label
        self._cache: list = []
        self._exhausted = False
        self._source = source
        self._iter: Iterator | None = None
        self._sequence = isinstance(source, (list, tuple))
        if self._sequence and not source:
            raise InputsError(f"`{label}` is empty; give at least one batch.")
        self._restartable = self._sequence or callable(source) or _is_dataset(source)
        if not self._restartable and not hasattr(source, "__iter__"):
            raise InputsError(
                f"`{label}` is a {type(source).__name__}; it must be a list of batches, a tf.data.Dataset, "
                "a function returning an iterable of batches, or an iterator."
            )

    def _fresh(self) -> Iterator:
        if self._sequence:
            return iter(self._source)
        if callable(self._source) and not _is_dataset(self._source):
            return iter(self._source())
        return iter(self._source)

    def first(self) -> Any:
        return next(itertools.islice(self, 1))

    def describe(self) -> str:
        if self._sequence:
            n = len(self._source)
            return f"{self.label}: {n} batch{'es' if n != 1 else ''}, cycled"
        if _is_dataset(self._source):
            return f"{self.label}: a tf.data.Dataset, cycled"
        return f"{self.label}: batches from {type(self._source).__name__}, cycled"

    def __iter__(self) -> Iterator:
        if not self._restartable:
            # an iterator: replay what it gave once it is exhausted
            index = 0
            while True:
                if index < len(self._cache):
                    yield self._cache[index]
                    index += 1
                    continue
                if not self._exhausted:
                    if self._iter is None:
                        self._iter = iter(self._source)
                    try:
                        item = next(self._iter)
                    except StopIteration:
                        self._exhausted = True
                        if not self._cache:
                            raise InputsError(f"`{self.label}` yielded no batch; give at least one.") from None
                        index = 0
                        continue
                    self._cache.append(item)
                    index += 1
                    yield item
                    continue
                index = 0
        else:
            while True:
                empty = True
                for item in self._fresh():
                    empty = False
                    yield item
                if empty:
                    raise InputsError(f"`{self.label}` yielded no batch; give at least one.")


def _is_dataset(obj: Any) -> bool:
    if "tensorflow" not in sys.modules:
        return False
    import tensorflow as tf

    return isinstance(obj, tf.data.Dataset)


def split_batch(target: Any, batch: Any, label: str) -> tuple[tuple, dict]:
    """One batch as (args, kwargs) for a callable or a Keras target."""
    if target.kind == "keras":
        if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
            raise InputsError(
                f"a batch of `{label}` must be a tuple (x, y) or (x, y, sample_weight) for a compiled "
                f"keras.Model; got {type(batch).__name__}."
            )
        return tuple(batch), {}
    if isinstance(batch, tuple):
        return batch, {}
    if isinstance(batch, dict):
        return (), dict(batch)
    return (batch,), {}


def tf1_feed(graph: Any, batch: Any, label: str) -> dict:
    """One batch (placeholder or tensor name -> array) as a ``feed_dict`` for ``graph``."""
    import numpy as np

    if not isinstance(batch, dict):
        raise InputsError(
            f"a batch of `{label}` must be a dict placeholder -> array for a TF1 graph target; "
            f"got {type(batch).__name__}."
        )
    feed = {}
    for key, value in batch.items():
        tensor = key
        if isinstance(key, str):
            try:
                tensor = graph.get_tensor_by_name(key if ":" in key else key + ":0")
            except (KeyError, ValueError) as exc:
                raise InputsError(f"a batch of `{label}` names {key!r}, which is not a tensor of the loss's graph.") from exc
        feed[tensor] = np.asarray(value)
    return feed
