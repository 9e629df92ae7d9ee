"""The ``[platforms.qq]`` table, and what ``hearth check`` says about QQ permissions.

The bot secret is a :class:`pydantic.SecretStr` (prints as ``**********``; validation errors
never echo it). :meth:`QQSettings.check_notes` explains what each platform permission enables
and what degrades without it, and warns about every URL in message templates (the platform
refuses a message with a URL not registered under 「消息URL配置」).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator

from bot.config_types import HttpUrl, Strict, UrlPath

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from bot.config import Config

GROUP_AND_C2C_EVENT = 1 << 25  # group @-/all messages, C2C, robot added/removed, proactive switch
GROUP_MEMBERS = 1 << 24  # GROUP_MEMBER_ADD / GROUP_MEMBER_REMOVE
INTERACTION = 1 << 26  # INTERACTION_CREATE (button clicks)
PUBLIC_PORTS = (80, 443, 8080, 8443)  # the only ports the platform calls
_URL = re.compile(r"https?://[^\s\"'<>]+", re.IGNORECASE)


class QQSettings(Strict):
    app_id: str
    secret: SecretStr
    transport: Literal["webhook", "websocket"] = "webhook"
    host: str = "0.0.0.0"  # webhook: the address the callback server binds
    port: int = Field(default=8443, ge=0, le=65535)
    path: UrlPath = "/qq/callback"
    api_base: HttpUrl = "https://api.sgroup.qq.com"
    token_url: HttpUrl = "https://bots.qq.com/app/getAppAccessToken"
    keyboard: bool = False  # buttons as a keyboard (needs the platform's approval)
    markdown: bool = False  # messages as markdown (needs the platform's approval)
    member_events: bool = True  # join/leave events (the GROUP_MEMBERS intent)

    @field_validator("app_id")
    @classmethod
    def _app_id(cls, value: str) -> str:
        if not value.isdigit() or len(value) > 20:
            raise ValueError('is the bot\'s AppID from q.qq.com, digits only (e.g. "102000000")')
        return value

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("is empty: copy the AppSecret from q.qq.com (开发 → 开发设置)")
        return value

    # --- derived --------------------------------------------------------------------------------

    @property
    def intents(self) -> int:
        """Only what the config needs: an intent the bot was not granted makes Identify fail."""
        bits = GROUP_AND_C2C_EVENT
        if self.member_events:
            bits |= GROUP_MEMBERS
        if self.keyboard:
            bits |= INTERACTION
        return bits

    def intent_names(self) -> str:
        names = ["GROUP_AND_C2C_EVENT"]
        if self.member_events:
            names.append("GROUP_MEMBERS (member_events = true)")
        if self.keyboard:
            names.append("INTERACTION (keyboard = true)")
        return ", ".join(names)

    def secrets(self) -> list[str]:
        """Values that must never reach a log."""
        return [self.secret.get_secret_value()]

    # --- hearth check -------------------------------------------------------------------------

    def check_notes(self, config: Config) -> list[str]:
        notes = [f"bot {self.app_id}, receiving by {self.transport}"]
        if self.transport == "webhook":
            notes.append(
                f"callback server on {self.host}:{self.port}{self.path}; the platform calls only HTTPS on "
                f"ports {'/'.join(map(str, PUBLIC_PORTS))}: put a reverse proxy in front (docs/qq.md)"
            )
        notes += [
            "all group messages: each group owner must allow 「获取群内全部消息」; without it only "
            "@-messages arrive, so text commands like 签到 work only as '@bot 签到'",
            "proactive messages: each group owner must allow them; without it scheduled announcements "
            "cannot be posted in that group (recorded as undeliverable) and replies go out only within "
            "5 minutes of the message they answer, at most 5 per message; `hearth check --live` shows "
            "what each group allowed",
            "direct messages (e.g. coupon codes) reach a member only within 60 minutes of their own "
            "private message to the bot; otherwise the campaign's group notice (without the code) is posted",
        ]
        if self.keyboard:
            notes.append("keyboard = true: buttons are sent as a keyboard (the platform must have approved it)")
        else:
            notes.append("keyboard = false: buttons become numbered text choices (members answer with the number)")
        if self.markdown:
            notes.append("markdown = true: messages are sent as markdown (the platform must have approved it)")
        else:
            notes.append("markdown = false: messages are sent as plain text")
        if not self.member_events:
            notes.append("member_events = false: no join/leave events, so welcome flows do not run on QQ")
        for where, url in template_urls(config):
            notes.append(
                f"warning: {where} contains the URL {url}; QQ refuses messages with URLs not registered "
                "under 「消息URL配置」 on q.qq.com"
            )
        return notes

    async def live_notes(self, conn: AsyncConnection) -> list[str]:
        """``hearth check --live``: what the stored state says about this bot's groups."""
        from adapters.qq.live import live_lines

        return await live_lines(conn, self.app_id)


def template_urls(config: Config) -> Iterator[tuple[str, str]]:
    """Every URL in a message template of the config: campaigns and rules, as ``(key, url)``."""
    yield from _urls(config.campaigns, "campaigns")
    yield from _urls(config.rules, "rules")


def _urls(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, str):
        for url in _URL.findall(value):
            yield where, url.rstrip(".,;:!?)）。，")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _urls(v, f"{where}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _urls(v, f"{where}[{i}]")
