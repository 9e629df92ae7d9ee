"""The ``[platforms.wecom]`` table, and what ``hearth check`` says about WeCom groups.

Secrets (``secret``, ``callback_token``, ``encoding_aes_key``) are :class:`SecretStr`, so
they print as ``**********`` in every repr and validation errors never echo them.

WeCom customer groups give apps no access to chat text: campaigns that read or post chat
in a ``wecom:`` group are errors (:meth:`WeComSettings.findings`), naming the reason and
what to use instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from pydantic import Field, SecretStr, field_validator

from adapters.wecom.crypto import aes_key
from bot.config_types import Duration, HttpUrl, Strict, UrlPath

PLATFORM = "wecom"
_CORP = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_USERID = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
NO_CHAT = "WeCom customer groups give apps no access to chat text"
# campaign types that must read or post chat to work at all
CHAT_TYPES = {
    "checkin": "it answers check-ins members type",
    "quiz": "members answer by typing or pressing buttons",
    "poll": "members vote in the chat",
    "feedback": "members answer in the chat",
}
ALTERNATIVE = (
    "run it in a Telegram, Discord or QQ group, and on WeCom use referral join ways, the group "
    "welcome template and scheduled announcements (staff-confirmed broadcasts)"
)


class WeComSettings(Strict):
    corp_id: str  # 企业ID, e.g. "ww0123456789abcdef"
    secret: SecretStr  # the self-built app's secret (customer-contact permission)
    callback_token: SecretStr
    encoding_aes_key: SecretStr  # 43 characters
    host: str = "0.0.0.0"
    port: int = Field(default=8090, ge=0, le=65535)
    path: UrlPath = "/wecom/callback"
    api_base: HttpUrl = "https://qyapi.weixin.qq.com"
    staff: list[str] = []  # WeCom userids who own the groups and confirm broadcasts
    sync_every: Duration = timedelta(days=1)  # full roster sync (also once at start)
    poll_every: Duration = timedelta(minutes=10)  # how often broadcast results are fetched
    monthly_cap: int | None = Field(default=None, ge=1, le=31)  # broadcasts per group per month
    agent_id: int | None = Field(default=None, ge=1)  # the app's AgentId: staff's /joinway in the app chat

    @field_validator("corp_id")
    @classmethod
    def _corp(cls, value: str) -> str:
        if not _CORP.match(value):
            raise ValueError('is not a WeCom corp id (e.g. "ww0123456789abcdef")')
        return value

    @field_validator("encoding_aes_key")
    @classmethod
    def _aes(cls, value: SecretStr) -> SecretStr:
        try:
            aes_key(value.get_secret_value())
        except ValueError as err:
            raise ValueError(f"{err} (copy the EncodingAESKey from the app's callback settings)") from None
        return value

    @field_validator("callback_token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        if not re.fullmatch(r"[A-Za-z0-9]{1,32}", value.get_secret_value()):
            raise ValueError("a callback Token is 1-32 letters and digits (WeCom's rule)")
        return value

    @field_validator("staff")
    @classmethod
    def _staff(cls, value: list[str]) -> list[str]:
        for userid in value:
            if not _USERID.match(userid):
                raise ValueError(f"{userid!r} is not a WeCom userid")
        return value

    def secrets(self) -> list[str]:
        """Values that must never reach a log."""
        return [
            self.secret.get_secret_value(),
            self.callback_token.get_secret_value(),
            self.encoding_aes_key.get_secret_value(),
        ]

    # --- hearth check ---------------------------------------------------------------------------

    def check_notes(self, config: Any) -> list[str]:
        notes = [
            f"callbacks on http://{self.host}:{self.port}{self.path} (set it as the app's 接收事件服务器 URL)",
            f"staff (group owners who confirm broadcasts): {', '.join(self.staff) or 'none: broadcasts are off'}",
            "no buttons and no group chat: members' messages are invisible and posts need a staff tap",
            f"staff make referral QR codes by sending /joinway CAMPAIGN [REFERRER] to app {self.agent_id}"
            if self.agent_id
            else "staff's /joinway in the app chat is off (set agent_id to the app's AgentId)",
        ]
        for name, campaign in config.campaigns.items():
            if not _on_wecom(campaign):
                continue
            if campaign.type == "welcome":
                notes.append(
                    f"{name}: its text becomes the group welcome template (at each start of hearth run, "
                    "or hearth wecom welcome sync); "
                    "staff attach it in WeCom, Hearth posts no welcome"
                )
            elif campaign.type == "referral":
                notes.append(f"{name}: joins are attributed by join ways (hearth wecom join-way create)")
                if getattr(campaign, "announce", False):
                    notes.append(f"{name}: announce = true cannot post in WeCom groups (set announce = false)")
                pools = getattr(campaign, "pools", lambda: [])()
                if pools:
                    notes.append(
                        f"{name}: coupons ({', '.join(pools)}) are assigned but cannot be messaged to WeChat "
                        "customers (no direct messages); staff hand them out (hearth coupons export)"
                    )
            elif campaign.type == "announcement":
                notes.append(f"{name}: becomes a broadcast task the group owner confirms in WeCom")
        return notes

    def findings(self, config: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """Campaigns and rules that cannot work in WeCom customer groups."""
        for name, campaign in config.campaigns.items():
            where = _wecom_groups(campaign.groups)
            if not where:
                continue
            at = ("campaigns", name, "groups", where[0])
            why = CHAT_TYPES.get(campaign.type)
            if why is not None:
                yield at, f"a {campaign.type} campaign cannot run in a WeCom group: {why}, and {NO_CHAT}; {ALTERNATIVE}"
            elif campaign.type == "welcome" and getattr(campaign, "verify", None) is not None:
                yield (
                    ("campaigns", name, "verify"),
                    f"the verification gate cannot run in a WeCom group: it mutes newcomers and reads "
                    f"their answer, and {NO_CHAT} nor any mute; drop [campaigns.{name}.verify] or list "
                    f"only other platforms' groups",
                )
            elif campaign.type == "referral" and getattr(campaign, "qualify_messages", 0) > 0:
                yield (
                    ("campaigns", name, "qualify_messages"),
                    f"qualification in WeCom groups can use time in the group only ({NO_CHAT}, so "
                    f"messages are never counted and nobody would qualify); set qualify_messages = 0 "
                    f"and choose qualify_after",
                )
        for i, rule in enumerate(config.rules):
            where = _wecom_groups(rule.groups)
            if where:
                yield (
                    ("rules", i, "groups", where[0]),
                    f"keyword rules cannot run in a WeCom group: {NO_CHAT}; list only other platforms' groups",
                )


def _wecom_groups(groups: list[str] | None) -> list[int]:
    return [i for i, g in enumerate(groups or []) if g.startswith(f"{PLATFORM}:")]


def _on_wecom(campaign: Any) -> bool:
    return campaign.groups is None or bool(_wecom_groups(campaign.groups))
