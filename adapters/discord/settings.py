"""The ``[platforms.discord]`` table. No discord.py import here: the config loads without it.

Hearth works in the channels listed per guild: each channel is a group ``discord:<channel id>``
and the adapter remembers which guild it belongs to (invites, timeouts and kicks are guild
matters). Joins and leaves happen to a guild, not a channel; they count in the channel of the
invite the newcomer used when Hearth works there, otherwise in the guild's ``join_channel``.

``token`` is a :class:`pydantic.SecretStr`: it prints as ``**********`` in every repr and
validation errors never echo it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator

from bot.config_types import Duration, Strict

if TYPE_CHECKING:
    from bot.config import Config

PLATFORM = "discord"
_SNOWFLAKE = re.compile(r"^[1-9][0-9]{0,19}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{10,}$")
# campaign types that act on joins and leaves (Discord reports those only with the members intent)
JOIN_TYPES = ("welcome", "referral")


def _snowflake(value: object) -> object:
    """Ids may be written as strings (recommended) or TOML integers; kept as strings."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _SNOWFLAKE.match(value):
        raise ValueError(f'{value!r} is not a Discord id (a snowflake such as "1199999999999999999")')
    return value


Snowflake = Annotated[str, BeforeValidator(_snowflake)]


class DiscordGuild(Strict):
    """One server and the channels Hearth works in there."""

    id: Snowflake
    channels: list[Snowflake] = Field(min_length=1)  # each is the group discord:<channel id>
    join_channel: Snowflake | None = None  # where joins and leaves count; default: the first channel

    @model_validator(mode="after")
    def _join_channel(self) -> DiscordGuild:
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("a channel is listed twice")
        if self.join_channel is not None and self.join_channel not in self.channels:
            raise ValueError(f"join_channel {self.join_channel} is not one of this guild's channels")
        return self

    @property
    def home(self) -> str:
        return self.join_channel or self.channels[0]


class DiscordIntents(Strict):
    """The privileged intents switched on for the bot in the Developer Portal."""

    members: bool = False  # joins and leaves (welcome, verification, referral attribution)
    message_content: bool = False  # text of ordinary messages (aliases such as 签到, keyword rules)


class DiscordSettings(Strict):
    token: SecretStr
    guilds: list[DiscordGuild] = Field(min_length=1)
    intents: DiscordIntents = DiscordIntents()
    sync_commands: bool = True  # register the slash commands in each guild on start (when changed)
    messages_per_second: float = Field(default=40.0, gt=0)  # all channels together (Discord: 50/s)
    channel_messages_per_second: float = Field(default=1.0, gt=0)  # into one channel, sustained
    channel_burst: int = Field(default=5, ge=1)  # ... and in a burst (Discord: 5 per 5 s per channel)
    interaction_answer_after: Duration = timedelta(seconds=10)  # clear "thinking…" no campaign answered

    @field_validator("token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value()
        if token.lower().startswith("bot "):
            raise ValueError('write the token without the "Bot " prefix')
        if not _TOKEN.match(token):
            raise ValueError("does not look like a bot token (Developer Portal → your app → Bot → Reset Token)")
        return value

    @model_validator(mode="after")
    def _unique(self) -> DiscordSettings:
        if not self._complete:
            return self
        guilds = [g.id for g in self.guilds]
        if len(set(guilds)) != len(guilds):
            raise ValueError("a guild is listed twice")
        channels = [c for g in self.guilds for c in g.channels]
        if len(set(channels)) != len(channels):
            raise ValueError("a channel is listed under two guilds")
        return self

    # --- derived --------------------------------------------------------------------------------

    @property
    def _complete(self) -> bool:
        """False for the stand-in ``hearth check`` uses when this table failed (already reported)."""
        return "guilds" in self.__dict__

    def guild_of(self) -> dict[str, str]:
        """Channel id -> guild id, for every configured channel."""
        return {c: g.id for g in self.guilds for c in g.channels}

    def chat_keys(self) -> list[str]:
        return [f"{PLATFORM}:{c}" for g in self.guilds for c in g.channels]

    def secrets(self) -> list[str]:
        return [self.token.get_secret_value()]

    # --- hearth check ----------------------------------------------------------------------------

    def findings(self, config: Config) -> Iterator[tuple[tuple[str | int, ...], str]]:
        """Discord groups named elsewhere in the config must be configured channels."""
        if not self._complete:
            return
        known = set(self.chat_keys())

        def problem(chat: str) -> str | None:
            if not chat.startswith(f"{PLATFORM}:") or chat in known:
                return None
            return (
                f"{chat} is not a channel Hearth works in; add its id to a guild's channels "
                "under [[platforms.discord.guilds]]"
            )

        for i, group in enumerate(config.groups):
            if (msg := problem(group.id)) is not None:
                yield ("groups", i, "id"), msg
        for name, campaign in config.campaigns.items():
            for i, chat in enumerate(campaign.groups or []):
                if (msg := problem(chat)) is not None:
                    yield ("campaigns", name, "groups", i), msg

    def check_notes(self, config: Config) -> list[str]:
        """What the bot does in Discord, and what each privileged intent left off disables."""
        notes = [
            f"guild {g.id}: {', '.join(f'{PLATFORM}:{c}' for c in g.channels)} (joins count in {PLATFORM}:{g.home})"
            for g in self.guilds
        ]
        if self.sync_commands:
            notes.append("slash commands are registered in each guild on start (when they changed)")
        here = [name for name, c in config.campaigns.items() if _runs_on_discord(c.groups) and c.enabled]
        if self.intents.members:
            notes.append("intent members: on (joins and leaves are reported)")
        else:
            joiners = [n for n in here if config.campaigns[n].type in JOIN_TYPES]
            affected = f" — campaigns {', '.join(joiners)} do nothing on Discord joins" if joiners else ""
            notes.append(
                "intent members: OFF — Discord reports no joins or leaves: no welcome, no verification, "
                f"no invite attribution for referrals{affected}. Turn on 'Server Members Intent' "
                "(Developer Portal → Bot) and set intents.members = true"
            )
        if self.intents.message_content:
            notes.append("intent message_content: on (text aliases and keyword rules work)")
        else:
            aliased = [n for n in here if getattr(config.campaigns[n], "aliases", None)]
            parts = [f"aliases of {', '.join(aliased)}"] if aliased else []
            parts += [f"{len(config.rules)} keyword rule(s)"] if config.rules else []
            affected = f" ({'; '.join(parts)})" if parts else ""
            notes.append(
                "intent message_content: OFF — slash commands and buttons work; text aliases such as 签到, "
                f"keyword rules and typed quiz answers do not{affected}. Turn on 'Message Content Intent' "
                "and set intents.message_content = true to use them"
            )
        notes.append(
            "needs in each guild: View Channels, Send Messages, Read Message History; Manage Server "
            "(invite attribution), Create Invite, Manage Messages, Moderate Members, Kick Members"
        )
        return notes


def _runs_on_discord(groups: list[str] | None) -> bool:
    return groups is None or any(g.startswith(f"{PLATFORM}:") for g in groups)
