"""The ``[platforms.telegram]`` table. No aiogram import here: the config loads without it.

Secrets (``token``, ``secret_token``) are :class:`pydantic.SecretStr`, so they print as
``**********`` in every repr, and validation errors never echo them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.config_types import Duration, HttpUrl, ListenAddress, Strict, listen_host, listen_port

_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,200}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "callback_query",
    "chat_member",
    "my_chat_member",
    "poll_answer",
    "message_reaction",
)


class TelegramSettings(Strict):
    token: SecretStr
    api_url: HttpUrl = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: HttpUrl | None = None  # where Telegram POSTs updates (webhook mode)
    listen: ListenAddress = "0.0.0.0:8443"  # host:port the webhook server binds (webhook mode)
    secret_token: SecretStr | None = None  # required in webhook mode
    poll_timeout: int = Field(default=25, ge=0, le=50)  # long-poll seconds
    messages_per_second: float = Field(default=30.0, gt=0)  # all chats together
    group_messages_per_minute: float = Field(default=20.0, gt=0)  # per group
    private_messages_per_second: float = Field(default=1.0, gt=0)  # per private chat
    admin_cache_ttl: Duration = timedelta(minutes=10)
    callback_answer_after: Duration = timedelta(seconds=2)  # empty answer if no campaign answered

    @field_validator("token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN.match(value.get_secret_value()):
            raise ValueError('does not look like a bot token from @BotFather ("123456:ABC-...")')
        return value

    @field_validator("secret_token")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET.match(value.get_secret_value()):
            raise ValueError("must be 1-256 characters from A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @model_validator(mode="after")
    def _webhook(self) -> TelegramSettings:
        if self.mode == "webhook":
            if not self.webhook_url:
                raise ValueError("webhook mode needs webhook_url (the public https URL Telegram calls)")
            if self.secret_token is None:
                raise ValueError("webhook mode needs secret_token, so forged updates are refused")
        return self

    # --- derived --------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return listen_host(self.listen)

    @property
    def port(self) -> int:
        return listen_port(self.listen)

    @property
    def webhook_path(self) -> str:
        """The path part of ``webhook_url`` the local server answers on (``/`` if none)."""
        return urlsplit(self.webhook_url or "").path or "/"

    @property
    def bot_id(self) -> str:
        """The bot's user id: the digits before the colon of the token (not secret)."""
        return self.token.get_secret_value().partition(":")[0]

    def secrets(self) -> list[str]:
        """Values that must never reach a log."""
        out = [self.token.get_secret_value()]
        if self.secret_token is not None:
            out.append(self.secret_token.get_secret_value())
        return out
