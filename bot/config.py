"""The TOML config: pydantic v2 models, ``${ENV}`` substitution, errors with file and line.

:func:`load` reads and validates a file and raises :class:`ConfigError` holding every
problem at once, each rendered as ``path:line: dotted.key: message``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator

import campaigns
from bot.config_lines import key_lines, line_of
from bot.config_types import ChatKey, Duration, Language, Strict, Timezone
from campaigns.base import REGISTRY, CampaignConfig

DEFAULT_DATABASE = "sqlite+aiosqlite:///hearth.db"


class BotSettings(Strict):
    name: str = "Hearth"
    language: Language = "en"
    timezone: Timezone = "UTC"
    database: str = DEFAULT_DATABASE
    log_level: Annotated[str, Field(pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")] = "INFO"
    admins: list[ChatKey] = []  # member keys allowed to run admin commands everywhere


class SchedulerSettings(Strict):
    grace: Duration = timedelta(hours=1)  # a fire missed by less than this still runs, once
    tick: Duration = timedelta(seconds=30)  # longest sleep between schedule checks


class SandboxGroup(Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")
    title: str = ""


class SandboxSettings(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    groups: list[SandboxGroup] = Field(
        default_factory=lambda: [SandboxGroup(id="g1", title="Coffee lovers"), SandboxGroup(id="g2", title="Tea club")]
    )
    members: list[str] = ["alice", "bob", "carol", "dave"]
    messages_per_second: float = Field(default=20.0, gt=0)
    messages_per_chat_per_second: float = Field(default=5.0, gt=0)


class Platforms(Strict):
    sandbox: SandboxSettings | None = None


class GroupSettings(Strict):
    id: ChatKey
    title: str = ""
    timezone: Timezone | None = None
    language: Language | None = None
    admins: list[ChatKey] = []


class Config(Strict):
    bot: BotSettings = BotSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    platforms: Platforms = Platforms()
    groups: list[GroupSettings] = []
    campaigns: dict[str, Any] = {}
    source: Annotated[str, Field(exclude=True)] = "<default>"

    @field_validator("campaigns", mode="before")
    @classmethod
    def _check_campaign_names(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for name in value:
                if not re.fullmatch(r"[A-Za-z0-9_-]{1,60}", name):
                    raise ValueError(f"campaign name {name!r} may use letters, digits, _ and - only")
        return value

    @field_validator("campaigns")
    @classmethod
    def _validate_campaigns(cls, value: dict[str, Any]) -> dict[str, CampaignConfig]:
        return _campaigns_adapter().validate_python(value)

    @model_validator(mode="after")
    def _check_groups(self) -> Config:
        seen: set[str] = set()
        for group in self.groups:
            if group.id in seen:
                raise ValueError(f"group {group.id} is listed twice")
            seen.add(group.id)
        return self

    def group(self, chat_key: str) -> GroupSettings | None:
        for g in self.groups:
            if g.id == chat_key:
                return g
        return None

    def timezone_of(self, chat_key: str) -> str:
        g = self.group(chat_key)
        return (g.timezone if g and g.timezone else None) or self.bot.timezone

    def language_of(self, chat_key: str) -> str:
        g = self.group(chat_key)
        return (g.language if g and g.language else None) or self.bot.language


def _campaigns_adapter() -> TypeAdapter[dict[str, CampaignConfig]]:
    campaigns.load_all()
    models = tuple(cls.config_model for cls in REGISTRY.values())
    union = Annotated[models[0] if len(models) == 1 else _union(models), Field(discriminator="type")]
    return TypeAdapter(dict[str, union])  # type: ignore[valid-type]


def _union(models: tuple[type, ...]) -> Any:
    out = models[0]
    for m in models[1:]:
        out = out | m  # type: ignore[operator]
    return out


# --- loading ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
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


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TOML_POS = re.compile(r"\(at line (\d+), column \d+\)")


def _substitute(value: Any, path: tuple[str | int, ...], missing: list[tuple[tuple, str]]) -> Any:
    if isinstance(value, str):

        def repl(m: re.Match[str]) -> str:
            if m.group(1) not in os.environ:
                missing.append((path, m.group(1)))
                return ""
            return os.environ[m.group(1)]

        return _ENV.sub(repl, value)
    if isinstance(value, dict):
        return {k: _substitute(v, (*path, k), missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, (*path, i), missing) for i, v in enumerate(value)]
    return value


def _message(err: dict[str, Any]) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        return "unknown key (is it misspelt?)"
    if kind == "missing":
        return "required key is missing"
    if kind == "union_tag_invalid":
        return f"unknown campaign type {err['input']!r}; known: {', '.join(sorted(REGISTRY))}"
    if kind == "union_tag_not_found":
        return f"missing 'type'; known: {', '.join(sorted(REGISTRY))}"
    return msg.removeprefix("Value error, ")


def _clean_loc(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    out = list(loc)
    if len(out) > 2 and out[0] == "campaigns" and out[2] in REGISTRY:
        del out[2]  # the discriminator tag pydantic puts into the path
    return tuple(x for x in out if not (isinstance(x, str) and x.startswith(("function-", "tagged-union"))))


def parse(text: str, path: str = "<config>") -> Config:
    """Validate config text; raises :class:`ConfigError` with every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        m = _TOML_POS.search(str(err))
        msg = _TOML_POS.sub("", str(err)).strip()
        raise ConfigError([Problem(path, int(m.group(1)) if m else None, "", f"TOML syntax: {msg}")]) from None
    lines = key_lines(text)
    missing: list[tuple[tuple, str]] = []
    data = _substitute(data, (), missing)
    problems = [
        Problem(path, line_of(lines, p), ".".join(map(str, p)), f"environment variable {name} is not set")
        for p, name in missing
    ]
    try:
        config = Config.model_validate({**data, "source": path})
    except ValidationError as err:
        for e in err.errors():
            loc = _clean_loc(e["loc"])
            problems.append(Problem(path, line_of(lines, loc), ".".join(map(str, loc)), _message(e)))
        raise ConfigError(problems) from None
    if problems:
        raise ConfigError(problems)
    from bot.config_checks import check

    problems = [Problem(path, line_of(lines, loc), ".".join(map(str, loc)), msg) for loc, msg in check(config)]
    if problems:
        raise ConfigError(problems)
    return config


def load(path: str | Path) -> Config:
    """Read and validate a config file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError([Problem(str(p), None, "", f"cannot read: {err.strerror}")]) from None
    except UnicodeDecodeError:
        raise ConfigError([Problem(str(p), None, "", "not UTF-8 text")]) from None
    return parse(text, str(p))


def default_config() -> Config:
    """The embedded default: the sandbox chat, SQLite, a daily check-in."""
    return parse(DEFAULT_TOML, "<embedded default>")


DEFAULT_TOML = """
[bot]
database = "sqlite+aiosqlite:///hearth.db"

[platforms.sandbox]

[campaigns.daily]
type = "checkin"
aliases = ["签到", "打卡", "checkin"]
points = 10
[[campaigns.daily.streak_rewards]]
days = 7
points = 50
"""
