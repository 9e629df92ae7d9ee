"""Config problems as people read them: ``path:line: dotted.key: message``.

Turns pydantic's error records into short sentences that name the TOML types a group
owner wrote ("expected a whole number, got a string"), suggest the key that was probably
meant (``unknown key 'pionts' (did you mean 'points'?)``) and list the allowed values.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from pydantic import BaseModel, SecretStr

from bot.config_schema import annotation_at, model_at, unwrap
from campaigns.base import REGISTRY

Loc = tuple[str | int, ...]
_BARE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a config file."""

    path: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(Exception):
    """Every problem found in a config file."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def dotted(loc: Sequence[str | int]) -> str:
    """``("campaigns", "daily", "streak_rewards", 1, "days")`` as ``campaigns.daily.streak_rewards[1].days``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _BARE.fullmatch(part) else '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
            out += f".{text}" if out else text
    return out


def toml_type(value: Any) -> str:
    """What a TOML value is called in the TOML spec's words."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime):
        return "a date-time" if value.tzinfo else "a local date-time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, time):
        return "a time"
    return type(value).__name__


def _got(value: Any) -> str:
    shown = repr(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
    if isinstance(value, bool):
        shown = "true" if value else "false"
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"got {toml_type(value)}" + (f" ({shown})" if shown else "")


def suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or, failing a close match, the list of choices."""
    options = sorted(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    if len(options) > 12:
        return "; config.example.toml lists the keys"
    return f"; known: {', '.join(options)}" if options else ""


_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string in quotes",
    "list_type": "an array [...]",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "timedelta_type": 'a duration such as "30m"',
}
_DATETIME = "a date-time with a UTC offset, unquoted, e.g. 2026-03-01T09:00:00+08:00"


def _keys_of(model: type[BaseModel] | None, root: type[BaseModel]) -> list[str]:
    if model is None:
        return []
    return [name for name, f in model.model_fields.items() if not (model is root and f.exclude)]


def message(err: dict[str, Any], loc: Loc, root: type[BaseModel], data: Any) -> str:
    """A person's wording of one pydantic error at ``loc`` (already cleaned of pydantic's tags)."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if unwrap(annotation_at(root, loc, data)) is SecretStr:
        return _secret_message(err, loc)
    if kind == "extra_forbidden" and loc:
        key = str(loc[-1])
        return f"unknown key {key!r}" + suggest(key, _keys_of(model_at(root, loc[:-1], data), root))
    if kind == "missing" and loc:
        return f"required key {str(loc[-1])!r} is missing"
    if kind == "union_tag_invalid":
        tag = str(ctx.get("tag", value))
        return f"unknown campaign type {tag!r}" + suggest(tag, REGISTRY)
    if kind == "union_tag_not_found":
        return f"missing 'type'; say which kind of campaign this is: {', '.join(sorted(REGISTRY))}"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, {_got(value)}"
    if kind.startswith(("datetime_", "date_")):
        return f"expected {_DATETIME}, {_got(value)}"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        if not isinstance(value, str):
            return f"expected one of {', '.join(choices)}, {_got(value)}"
        close = difflib.get_close_matches(value.lower(), choices, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close and close[0] != value else ""
        return f"{value!r} is not allowed; use one of: {', '.join(choices)}{hint}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": "at least", "greater_than": "more than"}
        words |= {"less_than_equal": "at most", "less_than": "less than"}
        limit = next(iter(ctx.values()), "?")
        return f"must be {words[kind]} {limit} (got {value!r})"
    if kind == "string_too_short":
        least = ctx.get("min_length")
        return "must not be empty" if least == 1 else f"must have at least {least} characters"
    if kind == "string_too_long":
        return f"must have at most {ctx.get('max_length')} characters (has {len(str(value))})"
    if kind == "string_pattern_mismatch":
        return f"{value!r} has the wrong form (it must match {ctx.get('pattern')})"
    return str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _secret_message(err: dict[str, Any], loc: Loc) -> str:
    """Words for a problem with a secret (a token) that never show its value."""
    kind, value = err["type"], err.get("input")
    if kind == "missing" and loc:
        return f"required key {str(loc[-1])!r} is missing"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {toml_type(value)}"
    text = str(err["msg"]).removeprefix("Value error, ")
    if isinstance(value, str) and value:
        text = text.replace(value, "***")
    return text
