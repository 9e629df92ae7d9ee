"""Reusable pydantic field types for the TOML config: durations, timezones, cron, chat keys.

Campaign modules build their config models from these, so every campaign validates the
same way and every error names the key. Models are strict: TOML has real integers,
booleans and date-times, so ``points = "10"`` is a mistake worth reporting, not coercing.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from bot.i18n import LANGUAGES, placeholders

Language = Literal["zh", "en", "ru"]
assert set(LANGUAGES) == {"zh", "en", "ru"}


class Strict(BaseModel):
    """Base for every config table: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> timedelta:
    """``"90s"``, ``"15m"``, ``"1h30m"``, ``"7d"`` (or a number of seconds) to a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError('expected a duration such as "30m", "24h" or "7d"')
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        pos, seconds = 0, 0.0
        for m in _DURATION.finditer(text):
            if m.start() != pos:
                break
            seconds += float(m.group(1)) * _UNIT[m.group(2)]
            pos = m.end()
        if not text or pos != len(text):
            raise ValueError(f'{value!r} is not a duration; write e.g. "30m", "24h" or "7d"')
    else:
        raise ValueError('expected a duration such as "30m", "24h" or "7d"')
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return timedelta(seconds=seconds)


@cache
def _zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, _zones(), n=1)
        hint = f"did you mean {close[0]!r}?" if close else 'use an IANA name such as "Asia/Shanghai"'
        raise ValueError(f"unknown timezone {name!r}; {hint}") from None
    return name


def at_least(minimum: timedelta) -> AfterValidator:
    """A validator for durations shorter than ``minimum``."""

    def check(value: timedelta) -> timedelta:
        if value < minimum:
            raise ValueError(f"must be at least {format_duration(minimum)}")
        return value

    return AfterValidator(check)


def format_duration(value: timedelta) -> str:
    """``timedelta(hours=1, minutes=30)`` as ``"1h30m"`` (the form :func:`parse_duration` reads)."""
    seconds, out = value.total_seconds(), ""
    for unit in ("w", "d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNIT[unit])
        out += f"{int(count)}{unit}" if count else ""
    if seconds:
        out += f"{round(seconds * 1000)}ms"
    return out or "0s"


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _weekday(token: str, end: bool = False) -> int:
    token = token.lower()
    if token in _WEEKDAYS:
        day = _WEEKDAYS.index(token)
        return 7 if end and day == 0 else day
    if token.isdigit() and int(token) <= 7:
        return int(token)
    raise ValueError(f"{token!r} is not a weekday (0-7 or sun-sat)")


def _weekdays(field: str) -> str:
    """A cron weekday field as APScheduler names, with cron's meaning (0 and 7 are Sunday).

    APScheduler counts weekdays from Monday = 0, so ``0 9 * * 0`` would silently fire on
    Mondays if passed through; spelling the days out keeps the crontab meaning.
    """
    if field == "*":
        return field
    days: set[int] = set()
    for item in field.split(","):
        span, _, step_text = item.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"bad step {step_text!r} in weekday field {field!r}")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            a, _, b = span.partition("-")
            first, last = _weekday(a), _weekday(b, end=True)
            if last < first:
                raise ValueError(f"weekday range {span!r} runs backwards")
        else:
            first = last = _weekday(span)
            if step:
                last = 6
        days.update(d % 7 for d in range(first, last + 1, step or 1))
    order = (1, 2, 3, 4, 5, 6, 0)
    return ",".join(_WEEKDAYS[d] for d in order if d in days)


def _check_cron(expr: str) -> str:
    """Validate a 5-field crontab line and return it in the form APScheduler reads alike."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"{expr!r} is not a 5-field cron expression (minute hour day month weekday)")
    if fields[2] not in ("*", "?") and fields[4] not in ("*", "?"):
        raise ValueError(f"{expr!r} restricts both the day of month and the weekday; cron dialects disagree on that")
    try:
        fields[4] = _weekdays(fields[4].replace("?", "*"))
        fields[2] = fields[2].replace("?", "*")
        normal = " ".join(fields)
        trigger = CronTrigger.from_crontab(normal, timezone="UTC")
    except ValueError as err:
        raise ValueError(f"bad cron expression {expr!r}: {err}") from None
    if trigger.get_next_fire_time(None, datetime(2000, 1, 1, tzinfo=UTC)) is None:
        raise ValueError(f"cron expression {expr!r} never fires")
    return normal


_KEY = re.compile(r"^[a-z][a-z0-9_]*:\S+$")


def _key_checker(what: str, example: str) -> AfterValidator:
    def check(value: str) -> str:
        if not _KEY.match(value):
            raise ValueError(f"{value!r} is not a {what} key; write platform:id, e.g. {example!r}")
        return value

    return AfterValidator(check)


def _check_alias(alias: str) -> str:
    if not alias.strip():
        raise ValueError("an alias cannot be empty")
    if alias.strip().startswith("/"):
        raise ValueError(f"alias {alias!r} should be plain text; /commands are built in")
    return alias


def _check_database(url: str) -> str:
    """A SQLAlchemy URL with an async driver; the URL itself is never echoed (it may hold a password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    hint = 'use "sqlite+aiosqlite:///hearth.db" or "postgresql+asyncpg://user:password@host/dbname"'
    try:
        driver = make_url(url).drivername
    except (ArgumentError, ValueError):
        raise ValueError(f"not a database URL; {hint}") from None
    if driver not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        raise ValueError(f"unsupported database driver {driver!r}; {hint}") from None
    return url


def template_checker(allowed: frozenset[str]) -> AfterValidator:
    """A validator that accepts a message template using only ``allowed`` placeholders."""

    def check(text: str) -> str:
        unknown = sorted(placeholders(text) - allowed)
        if unknown:
            known = ", ".join("{" + n + "}" for n in sorted(allowed)) or "none"
            names = ", ".join("{" + n + "}" for n in unknown)
            plural = "s" if len(unknown) > 1 else ""
            hint = "(write {{ and }} for literal braces)"
            raise ValueError(f"unknown placeholder{plural} {names}; allowed: {known} {hint}")
        return text

    return AfterValidator(check)


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value.rstrip("/")


def _check_url_path(value: str) -> str:
    if not value.startswith("/") or " " in value:
        raise ValueError(f'{value!r} is not a URL path, e.g. "/callback"')
    return value


def _check_listen(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f'{value!r} is not host:port, e.g. "127.0.0.1:8443"')
    return value


def listen_host(listen: str) -> str:
    """The host of a ``host:port`` listen address (IPv6 brackets removed)."""
    return listen.rpartition(":")[0].strip("[]")


def listen_port(listen: str) -> int:
    """The port of a ``host:port`` listen address."""
    return int(listen.rpartition(":")[2])


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
HttpUrl = Annotated[str, AfterValidator(_check_http_url)]  # http(s) URL, trailing / dropped
UrlPath = Annotated[str, AfterValidator(_check_url_path)]  # "/callback"
ListenAddress = Annotated[str, AfterValidator(_check_listen)]  # "host:port" a server binds
Timezone = Annotated[str, AfterValidator(_check_timezone)]
Cron = Annotated[str, AfterValidator(_check_cron)]
ChatKey = Annotated[str, _key_checker("chat", "telegram:-100123")]
MemberKey = Annotated[str, _key_checker("member", "telegram:12345")]
Alias = Annotated[str, AfterValidator(_check_alias)]
DatabaseUrl = Annotated[str, AfterValidator(_check_database)]
Points = Annotated[int, Field(ge=0, le=1_000_000)]
