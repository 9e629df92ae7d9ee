"""The TOML config: pydantic v2 models, ``${ENV}`` substitution, errors with file and line.

:func:`load` reads and validates a file and raises :class:`ConfigError` holding every
problem at once, each rendered as ``path:line: dotted.key: message``: syntax errors, values
of the wrong type or range, unknown keys, and the checks across tables
(:mod:`bot.config_checks`), which still run on the tables that validated when others did not.
"""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError, field_validator

import campaigns
from adapters.discord.settings import DiscordSettings
from adapters.onebot.settings import OneBotSettings
from adapters.qq.settings import QQSettings
from adapters.telegram.settings import TelegramSettings
from adapters.wecom.settings import WeComSettings
from bot.config_env import substitute
from bot.config_errors import ConfigError, Problem, dotted, message
from bot.config_lines import context_at, key_lines, line_of
from bot.config_schema import annotation_at, is_model, scalar_type, unwrap
from bot.config_types import ChatKey, DatabaseUrl, Duration, Language, MemberKey, Strict, Timezone, at_least
from bot.coupon_config import CouponPoolConfig, PoolName
from bot.rules_config import RuleList
from campaigns.base import REGISTRY, CampaignConfig

DEFAULT_DATABASE = "sqlite+aiosqlite:///hearth.db"


class BotSettings(Strict):
    name: str = "Hearth"
    language: Language = "en"
    timezone: Timezone = "UTC"
    database: DatabaseUrl = DEFAULT_DATABASE
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    admins: list[MemberKey] = []  # member keys allowed to run admin commands everywhere


class SchedulerSettings(Strict):
    grace: Duration = timedelta(hours=1)  # a fire missed by less than this still runs, once
    tick: Annotated[Duration, at_least(timedelta(seconds=1))] = timedelta(seconds=30)  # longest sleep between checks


def _sandbox_id(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", value):
        raise ValueError(f"{value!r} is not a group id: use 1 to 40 letters, digits, _ and -")
    return value


class SandboxGroup(Strict):
    id: Annotated[str, AfterValidator(_sandbox_id)]
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
    telegram: TelegramSettings | None = None
    discord: DiscordSettings | None = None
    onebot: OneBotSettings | None = None
    qq: QQSettings | None = None
    wecom: WeComSettings | None = None


class GroupSettings(Strict):
    id: ChatKey
    title: str = ""
    timezone: Timezone | None = None
    language: Language | None = None
    admins: list[MemberKey] = []


class Config(Strict):
    bot: BotSettings = BotSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    platforms: Platforms = Platforms()
    groups: list[GroupSettings] = []
    campaigns: dict[str, Any] = {}
    rules: RuleList = []  # [[rules]]: keyword rules, in order (bot/rules_config.py)
    coupons: dict[PoolName, CouponPoolConfig] = {}  # [coupons.<pool>] (bot/coupon_config.py)
    source: Annotated[str, Field(exclude=True)] = "<default>"

    @field_validator("campaigns")
    @classmethod
    def _validate_campaigns(cls, value: dict[str, Any]) -> dict[str, CampaignConfig]:
        return _campaigns_adapter().validate_python(value)

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

_TOML_POS = re.compile(r"\s*\(at (?:line (\d+), column \d+|end of document)\)")
Loc = tuple[str | int, ...]


def _clean_loc(loc: tuple[Any, ...]) -> Loc:
    out = list(loc)
    if len(out) > 2 and out[0] == "campaigns" and out[2] in REGISTRY:
        del out[2]  # the discriminator tag pydantic puts into the path
    return tuple(x for x in out if not (isinstance(x, str) and x.startswith(("function-", "tagged-union", "[key]"))))


def _syntax_problem(err: tomllib.TOMLDecodeError, text: str, path: str) -> Problem:
    m = _TOML_POS.search(str(err))
    line = int(m.group(1)) if m and m.group(1) else max(len(text.splitlines()), 1)
    where = dotted(context_at(text, line)) or "(top level)"
    return Problem(path, line, where, f"TOML syntax error: {_TOML_POS.sub('', str(err))}")


def _within(loc: Loc, paths: set[Loc]) -> bool:
    return any(loc[: len(p)] == p or p[: len(loc)] == loc for p in paths)


def _partial(data: dict[str, Any], bad: list[Loc]) -> tuple[Config, dict[str, list[int]]] | None:
    """The config without the parts that failed, for the checks across tables: whole sections,
    or in a table of tables (campaigns) or an array of tables ([[groups]]) just the failed
    items; a failed platform stays configured. Also, for each array, which original index
    each kept item had. None when that cannot be built."""

    def failed(*prefix: str | int) -> bool:
        return any(loc[: len(prefix)] == prefix for loc in bad)

    partial: dict[str, Any] = {}
    kept: dict[str, list[int]] = {}
    for key, value in data.items():
        field = Config.model_fields.get(key)
        if field is None or field.exclude:
            continue
        if not failed(key):
            partial[key] = value
        elif any(loc == (key,) for loc in bad):
            continue  # the whole section is wrong: leave it out
        elif key == "platforms" and isinstance(value, dict):
            partial[key] = {
                k: _stand_in(k) if failed(key, k) else v for k, v in value.items() if k in Platforms.model_fields
            }
        elif isinstance(value, dict):
            partial[key] = {k: v for k, v in value.items() if not failed(key, k)}
        elif isinstance(value, list):
            kept[key] = [i for i in range(len(value)) if not failed(key, i)]
            partial[key] = [value[i] for i in kept[key]]
    try:
        return Config.model_validate(partial), kept
    except ValidationError:
        return None


def _stand_in(platform: str) -> Any:
    """A platform table that failed: still configured, as far as the checks across tables go."""
    model = unwrap(Platforms.model_fields[platform].annotation)
    return model.model_construct() if is_model(model) else {}


def parse(text: str, path: str = "<config>") -> Config:
    """Validate config text; raises :class:`ConfigError` with every problem."""
    try:
        raw = tomllib.loads(text)
        lines = key_lines(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([_syntax_problem(err, text, path)]) from None
    except RecursionError:
        raise ConfigError([Problem(path, 1, "(top level)", "TOML syntax error: nested too deeply")]) from None
    found: list[tuple[Loc, str]] = []
    if "source" in raw:
        known = ", ".join(name for name, f in Config.model_fields.items() if not f.exclude)
        found.append((("source",), f"unknown key 'source'; known: {known}"))
        del raw["source"]
    env = substitute(raw, lambda loc: scalar_type(annotation_at(Config, loc, raw)))
    found += env.problems
    data = env.data
    config: Config | None = None
    bad: list[Loc] = []
    try:
        config = Config.model_validate({**data, "source": path})
    except ValidationError as err:
        for e in err.errors(include_url=False):
            loc = _clean_loc(e["loc"])
            bad.append(loc)
            if not _within(loc, env.failed):
                found.append((loc, env.hide(message(e, loc, Config, data), loc)))
    kept: dict[str, list[int]] = {}
    elsewhere: list[Problem] = []
    if config is None and (partial := _partial(data, bad)):
        config, kept = partial
    if config is not None:
        from bot.config_checks import check

        for finding in check(config):
            if isinstance(finding, Problem):  # located in another file the config names (a question bank)
                elsewhere.append(finding)
                continue
            loc, msg = finding
            if len(loc) > 1 and isinstance(loc[0], str) and loc[0] in kept and isinstance(loc[1], int):
                loc = (loc[0], kept[loc[0]][loc[1]], *loc[2:])  # the index in the file, not in the partial config
            found.append((loc, msg))
    if found or elsewhere:
        problems = [Problem(path, line_of(lines, loc) or 1, dotted(loc), msg) for loc, msg in found]
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0) + elsewhere)
    assert config is not None
    return config


def load(path: str | Path) -> Config:
    """Read and validate a file."""
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
