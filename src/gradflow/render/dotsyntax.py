"""DOT syntax: node and SVG ids, HTML-like labels, escString tooltips.

User text (names, shapes, reasons) goes through :func:`html_text` or
:func:`esc_string` before it reaches Graphviz: ``[None, 5]``, ``<``, ``>``,
``&`` and control characters all turn up in real models.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Iterable

import graphviz

from .text import visible as _visible

__all__ = ["html_text", "esc_string", "dot_id", "svg_id", "digest", "html_label", "small_text", "SAFE_ID"]

SAFE_ID = re.compile(r"[A-Za-z0-9_.\-/>\[\]*+]+\Z")


def html_text(text: Any) -> str:
    """``text`` as the content of a Graphviz HTML-like label: data, never markup."""
    text = _visible(str(text).replace("\n", " ").replace("\t", " "))
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def esc_string(lines: Iterable[Any]) -> str:
    """Lines of user text as one Graphviz escString (``tooltip``): backslashes are literal."""
    parts = [_visible(str(line).replace("\n", " ")).replace("\\", "\\\\")
             for line in lines]
    return graphviz.nohtml("\\n".join(parts))


def dot_id(name: str) -> str:
    """A DOT node id for an analysis-graph id: the id itself when it is plain, else a stable hash."""
    if SAFE_ID.match(name) and ":" not in name:
        return graphviz.nohtml(name)
    return graphviz.nohtml("_h/" + digest(name))


def svg_id(kind: str, name: str) -> str:
    """A stable SVG element id (``gf_n_...``) for JavaScript and CSS hooks."""
    return f"gf_{kind}_{digest(name)}"


def digest(text: str) -> str:
    """A short stable hash of ``text`` (ids never come from ``id()``, so SVGs diff cleanly)."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def html_label(*rows: str) -> str:
    """An HTML-like label from rows that are already escaped."""
    return "<" + "<BR/>".join(rows) + ">"


def small_text(text: str, colour: str | None = None, size: int = 9) -> str:
    """An already escaped label row in a smaller (and optionally coloured) font."""
    colour_attr = f' COLOR="{colour}"' if colour else ""
    return f'<FONT POINT-SIZE="{size}"{colour_attr}>{text}</FONT>'
