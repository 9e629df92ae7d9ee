"""Find the line of a TOML key, so config errors read ``file:line: dotted.key: message``.

``tomllib`` keeps no positions, so this scans the text once: table headers (``[a.b]``,
``[[a.b]]`` counted per array), ``key = value`` lines (dotted and quoted keys too), and
inline tables/arrays mapped to the line of their key. It only has to be right for files
that ``tomllib`` already parsed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Path = tuple[str | int, ...]

_BARE = r"[A-Za-z0-9_-]+"
_QUOTED = r"\"(?:[^\"\\]|\\.)*\"|'[^']*'"
_KEY = rf"(?:{_BARE}|{_QUOTED})"
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]\]?")
_ASSIGN = re.compile(rf"^\s*({_DOTTED})\s*=")
_PART = re.compile(_KEY)


def _split(dotted: str) -> list[str]:
    parts = []
    for m in _PART.finditer(dotted):
        raw = m.group(0)
        parts.append(raw[1:-1] if raw[0] in "\"'" else raw)
    return parts


def _open_brackets(line: str) -> int:
    """Net ``[``/``{`` depth a value line leaves open, ignoring strings and comments."""
    depth, quote, i = 0, "", 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        i += 1
    return depth


def key_lines(text: str) -> dict[Path, int]:
    """Map every table and key path in ``text`` to its 1-based line number."""
    lines: dict[Path, int] = {}
    arrays: dict[tuple[str, ...], int] = {}
    table: Path = ()
    depth = 0
    in_multiline = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = ""
            continue
        if depth > 0:
            depth += _open_brackets(line)
            continue
        header = _HEADER.match(line)
        if header:
            parts = tuple(_split(header.group(2)))
            if header.group(1) == "[[":
                index = arrays.get(parts, -1) + 1
                arrays[parts] = index
                table = (*parts, index)
            else:
                table = parts
            lines.setdefault(table, number)
            lines.setdefault(table[:-1] if header.group(1) == "[[" else table, number)
            continue
        assign = _ASSIGN.match(line)
        if assign:
            path = (*table, *_split(assign.group(1)))
            lines.setdefault(path, number)
            rest = line[assign.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) == 1:
                    in_multiline = quote
            depth = _open_brackets(rest)
    return lines


def line_of(lines: dict[Path, int], loc: Sequence[str | int]) -> int | None:
    """The line of the longest known prefix of ``loc`` (pydantic's error location)."""
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None
