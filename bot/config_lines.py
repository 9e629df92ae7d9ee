"""Find the line of a TOML key, so config errors read ``file:line: dotted.key: message``.

``tomllib`` keeps no positions, so this scans the text once, character by character: table
headers (``[a.b]``, and ``[[a.b]]`` counted per array, nested arrays of tables included),
``key = value`` lines (dotted and quoted keys too), the elements of arrays (each on its own
line when the array spans lines) and the keys of inline tables. Paths are tuples of keys
and array indices, as in pydantic's error locations. The scanner is lenient: it only has to
be right for files that ``tomllib`` parsed, and it never raises on any other text.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence

Path = tuple[str | int, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_SPACE = " \t\r"


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.line = 1
        self.lines: dict[Path, int] = {}
        self.arrays: dict[Path, int] = {}  # array-of-tables path -> current index
        self.table: Path = ()
        self.unfinished: Path | None = None

    # --- low level ----------------------------------------------------------------------

    def peek(self, n: int = 1) -> str:
        return self.s[self.i : self.i + n]

    def advance(self, n: int = 1) -> None:
        chunk = self.s[self.i : self.i + n]
        self.line += chunk.count("\n")
        self.i += len(chunk)

    def skip_space(self, newlines: bool = False) -> None:
        """Skip blanks (and, inside arrays, newlines and comments)."""
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch in _SPACE or (newlines and ch == "\n"):
                self.advance()
            elif newlines and ch == "#":
                self.skip_line(keep_newline=True)
            else:
                return

    def skip_line(self, keep_newline: bool = False) -> None:
        end = self.s.find("\n", self.i)
        end = len(self.s) if end < 0 else end
        self.advance(end - self.i if keep_newline else end - self.i + 1)

    def record(self, path: Path, line: int) -> None:
        self.lines.setdefault(path, line)

    # --- keys -----------------------------------------------------------------------------

    def key(self) -> list[str] | None:
        """A dotted key (``a."b.c".'d'``), or None when there is none here."""
        parts: list[str] = []
        while True:
            self.skip_space()
            ch = self.peek()
            if ch in ('"', "'"):
                start = self.i
                if not self.string():
                    return None
                raw = self.s[start : self.i]
                try:
                    parts.append(tomllib.loads(f"k = {raw}")["k"])
                except tomllib.TOMLDecodeError:
                    parts.append(raw[1:-1])
            else:
                m = _BARE.match(self.s, self.i)
                if not m:
                    return None
                parts.append(m.group(0))
                self.advance(m.end() - self.i)
            self.skip_space()
            if self.peek() != ".":
                return parts
            self.advance()

    # --- values ---------------------------------------------------------------------------

    def string(self) -> bool:
        """Skip one string of any of TOML's four kinds; False if it is not closed."""
        quote = self.peek()
        if self.peek(3) == quote * 3:
            self.advance(3)
            while self.i < len(self.s):
                if quote == '"' and self.peek() == "\\":
                    self.advance(2)
                elif self.peek(3) == quote * 3:
                    self.advance(3)
                    while self.peek() == quote and self.peek(3) != quote * 3:
                        self.advance()  # up to two quotes may end the content
                    return True
                else:
                    self.advance()
            return False
        self.advance()
        while self.i < len(self.s) and self.peek() != "\n":
            ch = self.peek()
            if quote == '"' and ch == "\\":
                self.advance(2)
            elif ch == quote:
                self.advance()
                return True
            else:
                self.advance()
        return False

    def value(self, path: Path) -> bool:
        """Skip one value, recording array elements and inline-table keys under ``path``."""
        self.skip_space()
        ch = self.peek()
        if ch in ('"', "'"):
            return self.string()
        if ch == "[":
            return self.array(path)
        if ch == "{":
            return self.inline_table(path)
        start = self.i
        while self.i < len(self.s) and self.peek() not in ",]}#\n":
            self.advance()
        return self.i > start

    def array(self, path: Path) -> bool:
        self.advance()
        index = 0
        while True:
            self.skip_space(newlines=True)
            if self.peek() == "]":
                self.advance()
                return True
            self.record((*path, index), self.line)
            if not self.value((*path, index)):
                return False
            self.skip_space(newlines=True)
            if self.peek() == ",":
                self.advance()
                index += 1
            elif self.peek() != "]":
                return False

    def inline_table(self, path: Path) -> bool:
        self.advance()
        while True:
            self.skip_space(newlines=True)
            if self.peek() == "}":
                self.advance()
                return True
            line = self.line
            parts = self.key()
            if not parts:
                return False
            self.skip_space()
            if self.peek() != "=":
                return False
            self.advance()
            for n in range(1, len(parts) + 1):
                self.record((*path, *parts[:n]), line)
            if not self.value((*path, *parts)):
                return False
            self.skip_space(newlines=True)
            if self.peek() == ",":
                self.advance()
            elif self.peek() != "}":
                return False

    # --- statements -----------------------------------------------------------------------

    def resolve(self, parts: list[str]) -> Path:
        """A header's path with the current index of every enclosing array of tables."""
        path: Path = ()
        for n, part in enumerate(parts):
            path = (*path, part)
            if n < len(parts) - 1 and path in self.arrays:
                path = (*path, self.arrays[path])
        return path

    def header(self) -> None:
        line = self.line
        is_array = self.peek(2) == "[["
        self.advance(2 if is_array else 1)
        parts = self.key()
        if not parts or self.peek(2 if is_array else 1) != ("]]" if is_array else "]"):
            return
        path = self.resolve(parts)
        for n in range(1, len(path) + 1):
            self.record(path[:n], line)
        if is_array:
            index = self.arrays.get(path, -1) + 1
            self.arrays[path] = index
            path = (*path, index)
            self.record(path, line)
        self.table = path

    def assignment(self) -> None:
        line = self.line
        parts = self.key()
        if not parts:
            return
        self.skip_space()
        if self.peek() != "=":
            return
        self.advance()
        for n in range(1, len(parts) + 1):
            self.record((*self.table, *parts[:n]), line)
        if not self.value((*self.table, *parts)) and self.i >= len(self.s):
            self.unfinished = (*self.table, *parts)  # the text ended inside this value

    def run(self) -> None:
        while self.i < len(self.s):
            self.skip_space()
            ch = self.peek()
            if ch == "\n":
                self.advance()
                continue
            if ch == "#" or not ch:
                self.skip_line()
                continue
            start_line = self.line
            if ch == "[":
                self.header()
            else:
                self.assignment()
            if self.line == start_line:
                self.skip_line()  # the rest of the statement's line (comment, or junk)


def key_lines(text: str) -> dict[Path, int]:
    """Map every table, key, array element and inline-table key in ``text`` to its 1-based line."""
    scanner = _Scanner(text)
    scanner.run()
    return scanner.lines


def context_at(text: str, line: int) -> Path:
    """The key a (possibly broken) ``line`` defines, or else the table it belongs to."""
    before = "".join(text.splitlines(keepends=True)[: max(line - 1, 0)])
    scanner = _Scanner(before)
    scanner.run()
    if scanner.unfinished is not None:
        return scanner.unfinished  # inside a multi-line array or string
    lines = text.splitlines()
    if 0 < line <= len(lines):
        probe = _Scanner(lines[line - 1])
        probe.skip_space()
        parts = probe.key() if probe.peek() not in ("[", "#", "") else None
        probe.skip_space()
        if parts and probe.peek() == "=":
            return (*scanner.table, *parts)
    return scanner.table


def line_of(lines: dict[Path, int], loc: Sequence[str | int]) -> int | None:
    """The line of the longest known prefix of ``loc`` (pydantic's error location)."""
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None
