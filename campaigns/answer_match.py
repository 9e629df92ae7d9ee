"""Answer matching that members perceive as fair.

Both the accepted answer and the member's text go through the same normalisation: Unicode
NFKC (full-width letters and digits become their usual forms), case folding, typographic
quotes and dashes made plain, runs of whitespace collapsed, surrounding whitespace and
punctuation dropped, and (optionally) accents folded (``Zürich`` = ``zurich``). Numbers are
compared as numbers (``"3.0"`` = ``"3"``, ``"１０"`` = ``"10"``, ``"1,000"`` = ``"1000"``).
A per-question typo tolerance accepts answers within a small edit distance, but never for
numbers, never when the digits differ (``Apollo 12`` is not ``Apollo 11``) and never more
than one typo per three letters of the answer. Matching is always of the whole answer:
``"not paris"`` is not ``"paris"``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

MAX_ANSWER_LENGTH = 200  # longer messages are chatter, not answers

_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
    }
)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_NOT_DIGIT = re.compile(r"\D")


def _edge(ch: str) -> bool:
    """Characters dropped around an answer: whitespace and punctuation."""
    return ch.isspace() or unicodedata.category(ch).startswith("P")


def _base(text: str, fold_accents: bool) -> str:
    s = unicodedata.normalize("NFKC", text).translate(_PLAIN).casefold()
    if fold_accents:
        s = unicodedata.normalize(
            "NFC", "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
        )
    return " ".join(s.split())


def normalize(text: str, fold_accents: bool = True) -> str:
    """The comparable form of an answer (see the module docstring)."""
    s = _base(text, fold_accents)
    start, end = 0, len(s)
    while start < end and _edge(s[start]):
        start += 1
    while end > start and _edge(s[end - 1]):
        end -= 1
    return s[start:end]


def as_number(text: str) -> Decimal | None:
    """The number an answer states (``"３．０"`` → 3.0), or None when it is not just a number."""
    s = _base(text, fold_accents=False).replace(" ", "")
    while s and _edge(s[-1]):
        s = s[:-1]
    while s and _edge(s[0]) and not (s[0] in "+-." and len(s) > 1 and (s[1].isdigit() or s[1] == ".")):
        s = s[1:]
    if _GROUPED.fullmatch(s):
        s = s.replace(",", "")
    if not _NUMBER.fullmatch(s):
        return None
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def distance(a: str, b: str, limit: int) -> int:
    """Edit distance (insert, delete, substitute, swap neighbours), or ``limit + 1`` when larger."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if before is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], before[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        before, prev = prev, cur
    return min(prev[len(b)], limit + 1)


def allowed_typos(expected: str, typos: int) -> int:
    """The tolerance actually applied: at most one typo per three letters of the answer."""
    return min(typos, len(expected) // 3)


def matches(guess: str, answers: Sequence[str], typos: int = 0, fold_accents: bool = True) -> bool:
    """Whether ``guess`` is one of the accepted ``answers`` (whole-answer comparison only)."""
    g = normalize(guess, fold_accents)
    if not g or len(g) > MAX_ANSWER_LENGTH:
        return False
    g_number = as_number(guess)
    for answer in answers:
        a_number = as_number(answer)
        if a_number is not None and g_number is not None:
            if a_number == g_number:
                return True
            continue
        expected = normalize(answer, fold_accents)
        if g == expected:
            return True
        limit = allowed_typos(expected, typos)
        if limit and a_number is None and _NOT_DIGIT.sub("", g) == _NOT_DIGIT.sub("", expected):
            if distance(g, expected, limit) <= limit:
                return True
    return False


def choice_of(guess: str, choices: Sequence[str], fold_accents: bool = True) -> int | None:
    """The 0-based choice a text answer picks: its number (``"2"``, ``"２"``) or its exact text."""
    number = as_number(guess)
    if number is not None and number == number.to_integral_value() and 1 <= number <= len(choices):
        return int(number) - 1
    g = normalize(guess, fold_accents)
    if not g:
        return None
    for index, choice in enumerate(choices):
        if normalize(choice, fold_accents) == g:
            return index
    return None
