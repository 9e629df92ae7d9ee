"""The ``[[rules]]`` tables: trigger → conditions → actions, validated like every other table.

Exactly one trigger (``command``, ``keywords``, ``regex`` or ``any_message``) and at least one
action (``reply``, ``react``, ``points``, ``tag``, ``delete``) per rule. Regular expressions
are compiled here, so a bad one is a ``file:line`` error from ``hearth check``, never a crash.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Literal

import regex as safe_regex
from pydantic import AfterValidator, Field, field_validator, model_validator

from bot.config_types import ChatKey, Duration, Language, Points, Strict, template_checker

PLACEHOLDERS = frozenset({"name", "group"})
Template = Annotated[str, Field(min_length=1, max_length=4000), template_checker(PLACEHOLDERS)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_PATTERN = 500
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_hours(value: str) -> tuple[time, time]:
    """``"09:00-18:00"`` → (09:00, 18:00); an end before the start wraps past midnight."""
    m = _HOURS.match(value)
    if not m:
        raise ValueError(f'{value!r} is not a time window; write e.g. "09:00-18:00"')
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1 == 24 and m1) or (h2 == 24 and m2):
        raise ValueError(f"{value!r} has an impossible time")
    start = time(h1 % 24, m1)
    end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
    if start == end:
        raise ValueError(f"{value!r} is an empty window")
    return start, end


def compile_pattern(pattern: str) -> safe_regex.Pattern[str]:
    return safe_regex.compile(pattern, safe_regex.VERSION0)


class RuleConfig(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,60}$")
    # trigger: exactly one of these
    command: str | None = Field(default=None, pattern=r"^/?[A-Za-z][A-Za-z0-9_]{0,31}$")
    keywords: list[Annotated[str, Field(min_length=1, max_length=200)]] = []
    regex: str | None = Field(default=None, min_length=1, max_length=MAX_PATTERN)
    any_message: bool = False
    description: str | None = Field(default=None, min_length=1, max_length=200)  # /help's line for `command`
    min_length: int = Field(default=0, ge=0, le=4000)  # characters a message needs to count
    # conditions
    groups: list[ChatKey] | None = None
    admin_only: bool = False
    hours: str | None = None  # group-local time window, e.g. "09:00-18:00" or "22:00-02:00"
    weekdays: list[Weekday] | None = None
    cooldown: Duration | None = None  # per member
    chat_cooldown: Duration | None = None  # per chat
    daily_cap: int | None = Field(default=None, ge=1, le=100_000)  # per member and group-local day
    chat_daily_cap: int | None = Field(default=None, ge=1, le=1_000_000)
    # actions
    reply: Template | None = None
    replies: dict[Language, Template] = {}  # per-language variants of `reply`
    react: str | None = Field(default=None, min_length=1, max_length=16)
    points: Points = 0
    tag: str | None = Field(default=None, pattern=r"^[\w-]{1,50}$")
    delete: bool = False
    stop: bool = False  # later rules do not run for a message this rule fired on

    @field_validator("command")
    @classmethod
    def _command(cls, value: str | None) -> str | None:
        return value.removeprefix("/").lower() if value else value

    @field_validator("regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compile_pattern(value)
            except safe_regex.error as err:
                raise ValueError(f"bad regular expression: {err}") from None
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hours(value)
        return value

    @model_validator(mode="after")
    def _shape(self) -> RuleConfig:
        triggers = [
            k
            for k, on in (
                ("command", self.command),
                ("keywords", self.keywords),
                ("regex", self.regex),
                ("any_message", self.any_message),
            )
            if on
        ]
        if len(triggers) != 1:
            found = ", ".join(triggers) or "none"
            raise ValueError(f"give exactly one trigger: command, keywords, regex or any_message (found: {found})")
        if self.description and not self.command:
            raise ValueError("'description' is what /help shows for a command; give 'command' too")
        if self.replies and self.reply is None:
            raise ValueError("'replies' are variants of 'reply'; give 'reply' too")
        if not (self.reply or self.react or self.points or self.tag or self.delete):
            raise ValueError("give at least one action: reply, react, points, tag or delete")
        return self


def _unique_names(rules: list[RuleConfig]) -> list[RuleConfig]:
    """Rule names must be unique: counters and ledger rows are kept by name."""
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise ValueError(f"two rules are called {rule.name!r}; names must be unique")
        seen.add(rule.name)
    return rules


RuleList = Annotated[list[RuleConfig], AfterValidator(_unique_names)]
