"""``json.dumps(obj, indent=N, ensure_ascii=False)``, byte for byte, faster on large reports.

With an indent, the standard library encodes in Python through nested
generators, so every piece of text climbs back through one generator per
level of nesting; a DenseNet121 report (10 MB, each variable listing the same
library cuts) takes about a second that way. This writes into one list
instead, and encodes a flat object (only strings, integers, booleans and
nulls as values) once per nesting level however often it repeats: a blocker
shared by hundreds of variables. Anything but dicts, lists, tuples, strings,
numbers, booleans and None goes to :func:`json.dumps` itself, which then says
what is wrong exactly as it would have.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

__all__ = ["dumps"]

_INF = float("inf")
_FLAT = frozenset({str, int, bool, type(None)})  # exact types: a subclass may encode otherwise


class _Unsupported(Exception):
    """A value the fast path does not encode; the standard library then does it all."""


def _float(o: float) -> str:
    if o != o:
        return "NaN"
    if o == _INF:
        return "Infinity"
    if o == -_INF:
        return "-Infinity"
    return float.__repr__(o)


def dumps(obj: Any, *, indent: int) -> str:
    """Exactly ``json.dumps(obj, indent=indent, ensure_ascii=False)``."""
    try:
        return _Encoder(" " * indent).encode(obj)
    except (_Unsupported, RecursionError):
        return json.dumps(obj, indent=indent, ensure_ascii=False)


class _Encoder:
    def __init__(self, step: str) -> None:
        self.step = step
        self.flat_cache: dict[tuple, str] = {}
        self.out: list[str] = []

    def encode(self, obj: Any) -> str:
        self.value(obj, 0)
        return "".join(self.out)

    def scalar(self, o: Any) -> str | None:
        """The text of a scalar, in the standard library's order of checks; None for a container."""
        if isinstance(o, str):
            return encode_basestring(o)
        if o is None:
            return "null"
        if o is True:
            return "true"
        if o is False:
            return "false"
        if isinstance(o, int):
            return int.__repr__(o)
        if isinstance(o, float):
            return _float(o)
        if isinstance(o, (list, tuple, dict)):
            return None
        raise _Unsupported

    def key(self, k: Any) -> str:
        if isinstance(k, str):
            return encode_basestring(k)
        if isinstance(k, float):
            return encode_basestring(_float(k))
        if k is True:
            return '"true"'
        if k is False:
            return '"false"'
        if k is None:
            return '"null"'
        if isinstance(k, int):
            return encode_basestring(int.__repr__(k))
        raise _Unsupported

    def value(self, o: Any, level: int) -> None:
        text = self.scalar(o)
        if text is not None:
            self.out.append(text)
        elif isinstance(o, dict):
            self.dict(o, level)
        else:
            self.list(o, level)

    def list(self, items: Any, level: int) -> None:
        if not items:
            self.out.append("[]")
            return
        inner = "\n" + self.step * (level + 1)
        out = self.out
        out.append("[")
        first = True
        for item in items:
            out.append(inner if first else "," + inner)
            first = False
            self.value(item, level + 1)
        out.append("\n" + self.step * level + "]")

    def dict(self, d: dict, level: int) -> None:
        if not d:
            self.out.append("{}")
            return
        types = tuple(map(type, d.values()))
        if _FLAT.issuperset(types):  # the same flat object, at the same level, is the same text: encode it once
            key = (level, tuple(d.items()), types, tuple(map(type, d)))
            text = self.flat_cache.get(key)
            if text is None:
                mark = len(self.out)
                self._dict_items(d, level)
                text = "".join(self.out[mark:])
                del self.out[mark:]
                self.flat_cache[key] = text
            self.out.append(text)
            return
        self._dict_items(d, level)

    def _dict_items(self, d: dict, level: int) -> None:
        inner = "\n" + self.step * (level + 1)
        out = self.out
        out.append("{")
        first = True
        for k, v in d.items():
            out.append(inner if first else "," + inner)
            first = False
            out.append(self.key(k))
            out.append(": ")
            self.value(v, level + 1)
        out.append("\n" + self.step * level + "}")
