"""Inert text: every user-controlled string (variable, op, layer and file names, error messages)
passes through one of these before it reaches an output.

- :func:`visible` shows control and bidi characters as escapes (``\\x1b``,
  ``\\u202e``): no raw escape sequence reaches a terminal, no right-to-left
  override reorders a file name, and XML (SVG) never sees a character it
  forbids.
- :func:`html_text`, :func:`markdown_text`, :func:`markdown_code` and
  :func:`rich_text` then escape for one output: HTML, CommonMark (GitHub,
  mkdocs), rich markup.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata

__all__ = ["visible", "html_text", "markdown_text", "markdown_code", "rich_text", "Inert", "number"]

# Bidi embeddings, overrides and isolates, the directional marks, and the
# invisible format characters that can hide or reorder text.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def _needs_escape(ch: str) -> bool:
    if ch in _BIDI or ch in _INVISIBLE:
        return True
    cat = unicodedata.category(ch)
    return cat in ("Cc", "Cs", "Co", "Cn") and ch not in "\t" or ch in "\u2028\u2029"


_ESCAPE_CACHE: dict[str, str] = {}


def _escape_char(ch: str) -> str:
    out = _ESCAPE_CACHE.get(ch)
    if out is None:
        code = ord(ch)
        if ch == "\n":
            out = "\\n"
        elif ch == "\r":
            out = "\\r"
        elif code < 0x100:
            out = f"\\x{code:02x}"
        elif code < 0x10000:
            out = f"\\u{code:04x}"
        else:
            out = f"\\U{code:08x}"
        _ESCAPE_CACHE[ch] = out
    return out


_SAFE = re.compile(r"[\x20-\x7e]*\Z")


def visible(text: object, *, newlines: bool = False, tabs: bool = True) -> str:
    """``text`` with control, bidi and invisible format characters shown as ``\\xNN``/``\\uNNNN`` escapes.

    Args:
        text: anything; ``str()`` is taken.
        newlines: keep ``\\n`` as a line break (multi-line text: tracebacks);
            by default it becomes the two characters ``\\n``.
        tabs: keep tabs as they are.
    """
    s = str(text)
    if _SAFE.match(s):
        return s
    out = []
    for ch in s:
        if ch == "\n" and newlines:
            out.append(ch)
        elif ch == "\t":
            out.append(ch if tabs else "\\t")
        elif _needs_escape(ch):
            out.append(_escape_char(ch))
        else:
            out.append(ch)
    return "".join(out)


def html_text(text: object, *, newlines: bool = False) -> str:
    """HTML text or attribute value: visible, then entity-escaped (quotes too)."""
    return html.escape(visible(text, newlines=newlines), quote=True)


# What can start markup inline: HTML and autolinks (<, &), links and images
# ([, ], !), emphasis (*, _, ~), code (`), table cells (|), the escape itself (\\),
# and at a line's start headings, quotes and lists (#, >, +, -, =).
_MD_PUNCT = re.compile(r"([\\`*_\[\]<>&|!~#+=-])")


def markdown_text(text: object) -> str:
    """CommonMark inline text that renders as exactly ``text`` (made visible), on one line.

    Every ASCII punctuation character is backslash-escaped, so no HTML,
    link, emphasis, table pipe or heading can start inside it.
    """
    return _MD_PUNCT.sub(r"\\\1", visible(text, tabs=False))


def markdown_code(text: object, *, table: bool = False) -> str:
    """A CommonMark code span holding ``text`` (made visible, on one line).

    With ``table``, pipes are escaped as GitHub-flavoured tables need (the
    table is split at unescaped pipes before the cell is parsed).
    """
    s = visible(text, tabs=False)
    longest = max((len(run) for run in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    if s.startswith(("`", " ")) or s.endswith(("`", " ")) or not s:
        s = f" {s} "
    if table:
        s = s.replace("|", "\\|")
    return f"{fence}{s}{fence}"


def rich_text(text: object, *, newlines: bool = True) -> str:
    """Text for rich's markup: visible, with ``[`` escaped so it is never read as a tag."""
    from rich.markup import escape

    return escape(visible(text, newlines=newlines))


def number(value: float | None) -> str:
    """A number in three significant digits; ``-`` for None, ``nan``/``inf``/``-inf`` as words.

    Examples:
        >>> number(0.087412), number(None), number(float("-inf")), number(0.0)
        ('0.0874', '-', '-inf', '0')
    """
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value == 0:
        return "0"
    return f"{value:.3g}"


class Inert:
    """A rich renderable shown with every control and bidi character made visible.

    The last line of defence for terminal output: whatever a renderer put in
    its text, no raw escape sequence or direction override reaches the
    terminal (rich's own styling is added after, and stays).
    """

    def __init__(self, renderable: object) -> None:
        self.renderable = renderable

    def __rich_console__(self, console, options):  # noqa: ANN001 - rich's protocol
        from rich.segment import Segment

        for seg in console.render(self.renderable, options):
            if seg.control or _SAFE.match(seg.text):
                yield seg
            else:
                yield Segment(visible(seg.text, newlines=True), seg.style, seg.control)
