"""Reusable pydantic field types for the TOML config: durations, timezones, cron, chat keys.

Campaign modules build their config models from these, so every campaign validates the
same way and every error names the key.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from bot.i18n import LANGUAGES, placeholders

Language = Literal["zh", "en", "ru"]
assert set(LANGUAGES) == {"zh", "en", "ru"}


class Strict(BaseModel):
    """Base for every config table: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'unknown timezone {name!r}; use an IANA name such as "Asia/Shanghai"') from None
    return name


def _check_cron(expr: str) -> str:
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"{expr!r} is not a 5-field cron expression (minute hour day month weekday)")
    try:
        CronTrigger.from_crontab(expr, timezone="UTC")
    except ValueError as err:
        raise ValueError(f"bad cron expression {expr!r}: {err}") from None
    return expr


_CHAT_KEY = re.compile(r"^[a-z][a-z0-9_]*:\S+$")


def _check_chat_key(value: str) -> str:
    if not _CHAT_KEY.match(value):
        raise ValueError(f'{value!r} is not a chat key; write platform:chat_id, e.g. "telegram:-100123"')
    return value


def template_checker(allowed: frozenset[str]) -> AfterValidator:
    """A validator that accepts a message template using only ``allowed`` placeholders."""

    def check(text: str) -> str:
        names = placeholders(text)
        unknown = sorted(names - allowed)
        if unknown:
            known = ", ".join("{" + n + "}" for n in sorted(allowed)) or "none"
            raise ValueError(f"unknown placeholder {{{unknown[0]}}}; allowed: {known}")
        return text

    return AfterValidator(check)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Timezone = Annotated[str, AfterValidator(_check_timezone)]
Cron = Annotated[str, AfterValidator(_check_cron)]
ChatKey = Annotated[str, AfterValidator(_check_chat_key)]
MemberKey = ChatKey
Points = Annotated[int, Field(ge=0, le=1_000_000)]
