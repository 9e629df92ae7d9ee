"""The ``[platforms.onebot]`` table. No aiohttp import here: the config loads without it.

One table serves every OneBot v11 bridge (NapCat, LLOneBot, Lagrange for QQ; WeChat bridges
speaking v11). ``mode = "reverse"``: bridges connect to Hearth at ``ws://listen/path``;
``mode = "forward"``: Hearth connects to each ``[[platforms.onebot.bots]]`` entry's ``url``.
Each bot may key its groups and members under its own platform name (``qq``, ``wechat``);
the default is ``onebot``. ``access_token`` is a :class:`pydantic.SecretStr`, so it prints as
``**********`` in every repr and validation errors never echo it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.config_types import Duration, ListenAddress, Strict, UrlPath, listen_host, listen_port

if TYPE_CHECKING:
    from bot.config import Config

TABLE = "onebot"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,19}$")
_SELF_ID = re.compile(r"^[A-Za-z0-9_@.-]{1,64}$")  # QQ numbers; WeChat bridges may map ids to text


def _platform_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"{value!r} is not a platform name: 1-20 of a-z, 0-9, _ and -, starting with a letter")
    return value


class OneBotBot(Strict):
    """One account behind a bridge."""

    self_id: str | None = None  # the account (X-Self-ID); required in reverse mode
    platform: str = TABLE  # the key prefix of its groups and members: "qq", "wechat", ...
    url: str | None = None  # forward mode: the bridge's WebSocket URL

    @field_validator("self_id")
    @classmethod
    def _self_id(cls, value: str | None) -> str | None:
        if value is not None and not _SELF_ID.match(value):
            raise ValueError(f"{value!r} is not an account id (the bot's QQ number, as text)")
        return value

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        return _platform_name(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("ws", "wss") or not parts.hostname or " " in value:
            raise ValueError(f'{value!r} is not a ws:// or wss:// URL, e.g. "ws://127.0.0.1:3001/"')
        return value


class OneBotSettings(Strict):
    mode: Literal["reverse", "forward"] = "reverse"
    access_token: SecretStr  # sent and checked on every connection
    listen: ListenAddress = "127.0.0.1:6700"  # reverse mode: host:port Hearth listens on
    path: UrlPath = "/onebot/v11/ws"  # reverse mode: the WebSocket path bridges connect to
    platform: str = TABLE  # key prefix for accounts not listed in bots
    bots: list[OneBotBot] = []
    api_timeout: Duration = timedelta(seconds=30)  # one API call's answer
    reconnect_max: Duration = timedelta(seconds=60)  # forward mode: longest wait between reconnects
    messages_per_second: float = Field(default=1.0, gt=0)  # all groups together (QQ risk control)
    group_messages_per_minute: float = Field(default=12.0, gt=0)  # into one group
    member_cache_ttl: Duration = timedelta(minutes=10)  # how long a member's role is remembered

    @field_validator("access_token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        if not token or token != token.strip() or any(ord(c) < 33 for c in token):
            raise ValueError("must be a non-empty token without spaces (the bridge's access_token)")
        return value

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        return _platform_name(value)

    @model_validator(mode="after")
    def _bots(self) -> OneBotSettings:
        ids = [b.self_id for b in self.bots if b.self_id is not None]
        if len(ids) != len(set(ids)):
            raise ValueError("each bots[].self_id may be listed once")
        if self.mode == "reverse" and any(b.self_id is None for b in self.bots):
            raise ValueError("reverse mode: every [[platforms.onebot.bots]] needs self_id (its X-Self-ID)")
        if self.mode == "forward":
            if not self.bots or any(b.url is None for b in self.bots):
                raise ValueError("forward mode: list each bridge as [[platforms.onebot.bots]] with its url")
        return self

    # --- derived --------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return listen_host(self.listen)

    @property
    def port(self) -> int:
        return listen_port(self.listen)

    def platform_of(self, self_id: str) -> str:
        """The key prefix of an account's groups and members."""
        for bot in self.bots:
            if bot.self_id == self_id:
                return bot.platform
        return self.platform

    def key_platforms(self) -> set[str]:
        """Key prefixes besides ``onebot`` that these bots answer to (``qq:123`` groups)."""
        return {self.platform, *(b.platform for b in self.bots)} - {TABLE}

    def secrets(self) -> list[str]:
        """Values that must never reach a log."""
        return [self.access_token.get_secret_value()]

    # --- hearth check -----------------------------------------------------------------------------

    def findings(self, config: Config) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """A bot's platform name may not be another configured platform's own table."""
        tables = {name for name, value in config.platforms if value is not None and name != TABLE}
        if self.platform in tables:
            yield ("platforms", TABLE, "platform"), _clash(self.platform)
        for i, bot in enumerate(self.bots):
            if bot.platform in tables:
                yield ("platforms", TABLE, "bots", i, "platform"), _clash(bot.platform)

    def check_notes(self, config: Any) -> list[str]:
        if self.mode == "reverse":
            where = f"bridges connect to ws://{self.listen}{self.path} (reverse WebSocket)"
        else:
            where = "Hearth connects to " + ", ".join(b.url or "" for b in self.bots) + " (forward WebSocket)"
        names = ", ".join(f"{n}:<group_id>" for n in sorted({self.platform, *(b.platform for b in self.bots)}))
        return [
            where,
            f"groups are keyed {names}",
            "no buttons on this platform: choices are numbered text (members reply 1, 2, 3)",
            "bridges log in as a personal account: keep sends slow (risk control may freeze it)",
        ]


def _clash(name: str) -> str:
    return f"{name!r} is the name of another configured platform ([platforms.{name}]); pick another key prefix"
