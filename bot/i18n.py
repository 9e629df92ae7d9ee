"""Message templates per locale (zh, en, ru) and safe substitution.

Templates use ``{name}`` placeholders only. Attribute access, indexing and format specs
are refused, so neither a config author nor a member's text can reach Python objects.
Member-supplied values are inserted as plain strings and never re-parsed.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from string import Formatter

LANGUAGES = ("zh", "en", "ru")
DEFAULT_LANGUAGE = "en"
_LOCALES = Path(__file__).parent / "locales"
_formatter = Formatter()


class TemplateError(ValueError):
    """A template that is not plain ``{name}`` substitution."""


@lru_cache(maxsize=4096)  # templates are few (locales and config texts); parse each once
def _fields(template: str) -> tuple[tuple[str, str | None], ...]:
    try:
        parsed = list(_formatter.parse(template))
    except ValueError as err:
        raise TemplateError(f"bad template: {err} (write {{{{ and }}}} for literal braces)") from None
    out: list[tuple[str, str | None]] = []
    for literal, field, spec, conversion in parsed:
        if field is not None:
            if not field.isidentifier():
                raise TemplateError(f"placeholder {{{field}}} is not a plain name")
            if spec or conversion:
                raise TemplateError(f"placeholder {{{field}}} may not carry a format or conversion")
        out.append((literal, field))
    return tuple(out)


def placeholders(template: str) -> set[str]:
    """The placeholder names a template uses; raises :class:`TemplateError` on anything else."""
    return {field for _, field in _fields(template) if field is not None}


def render(template: str, values: Mapping[str, object]) -> str:
    """Substitute ``{name}`` placeholders; an unknown one is left as written."""
    parts: list[str] = []
    for literal, field in _fields(template):
        parts.append(literal)
        if field is not None:
            parts.append(str(values[field]) if field in values else "{" + field + "}")
    return "".join(parts)


@cache
def catalog(language: str) -> dict[str, str]:
    """Every template of a language: ``locales/<language>/*.toml`` merged (one file per area)."""
    folder = _LOCALES / language
    if not folder.is_dir():
        folder = _LOCALES / DEFAULT_LANGUAGE
    merged: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as fh:
            merged.update(tomllib.load(fh))
    return merged


def t(language: str, key: str, **values: object) -> str:
    """The template ``key`` in ``language`` (falling back to English), rendered."""
    template = catalog(language).get(key) or catalog(DEFAULT_LANGUAGE).get(key)
    if template is None:
        raise KeyError(f"no message template {key!r}")
    return render(template, values)


def duration(language: str, seconds: float) -> str:
    """A wait such as ``3 h 12 min`` in the given language (rounded up to the minute)."""
    minutes = max(1, int(-(-seconds // 60)))
    h, m = divmod(minutes, 60)
    return t(language, "duration.hm", h=h, m=m) if h else t(language, "duration.m", m=m)
