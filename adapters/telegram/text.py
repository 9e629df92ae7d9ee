"""Message text both ways: Telegram entities → message elements, and outgoing text → HTML chunks.

Entity offsets and lengths count UTF-16 code units (emoji outside the BMP count twice), so
slicing goes through UTF-16. Outgoing content is plain text by contract: all of it is
escaped with :func:`html.escape` before it is sent with ``parse_mode=HTML``, so nothing a
member typed (their name, their answer) can become markup.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from bot.events import Element, Link, Mention, Text

MAX_MESSAGE = 4096  # characters after entity parsing (Telegram counts UTF-16 units)
_KEPT = ("text_mention", "url", "text_link")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _slice16(data: bytes, start: int, end: int) -> str:
    return data[start * 2 : end * 2].decode("utf-16-le", errors="replace")


def elements(text: str, entities: Sequence[Any] | None) -> tuple[Element, ...]:
    """The text as elements: links and user mentions become their own elements."""
    if not text:
        return ()
    if not entities:
        return (Text(text),)
    data = text.encode("utf-16-le")
    total = len(data) // 2
    out: list[Element] = []
    pos = 0
    for ent in sorted((e for e in entities if e.type in _KEPT), key=lambda e: (e.offset, -e.length)):
        start, end = ent.offset, min(ent.offset + ent.length, total)
        if start < pos or start >= end:
            continue  # nested in or overlapping one already taken
        if start > pos:
            out.append(Text(_slice16(data, pos, start)))
        segment = _slice16(data, start, end)
        if ent.type == "text_mention" and ent.user is not None:
            out.append(Mention(str(ent.user.id), segment.removeprefix("@")))
        elif ent.type == "text_link" and ent.url:
            out.append(Link(ent.url, segment))
        else:
            out.append(Link(segment, segment))
        pos = end
    if pos < total:
        out.append(Text(_slice16(data, pos, total)))
    return tuple(out)


def command_at_start(text: str, entities: Sequence[Any] | None) -> str | None:
    """The ``/command[@bot]`` a message starts with, as Telegram marked it, or None."""
    for ent in entities or ():
        if ent.type == "bot_command" and ent.offset == 0:
            return _slice16(text.encode("utf-16-le"), 0, ent.length)
    return None


def split(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Cut ``text`` into pieces of at most ``limit`` UTF-16 units, preferring line breaks."""
    if utf16_len(text) <= limit:
        return [text]
    pieces: list[str] = []
    rest = text
    while rest:
        if utf16_len(rest) <= limit:
            pieces.append(rest)
            break
        cut, used = 0, 0
        for i, ch in enumerate(rest):
            used += 2 if ord(ch) > 0xFFFF else 1
            if used > limit:
                break
            cut = i + 1
        newline = rest.rfind("\n", 0, cut)
        if newline > cut // 2:
            cut = newline + 1
        pieces.append(rest[:cut].rstrip("\n") or rest[:cut])
        rest = rest[cut:]
    return [p for p in pieces if p]


def as_html(text: str) -> str:
    """Plain text made safe for ``parse_mode=HTML`` (``<``, ``>`` and ``&`` escaped)."""
    return html.escape(text, quote=False)
