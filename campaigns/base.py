"""The ``Campaign`` interface every campaign type implements, and the registry by ``type``.

A campaign is built from its validated config table. It declares the commands it answers
and the schedules it wants; the engine calls :meth:`Campaign.handle` for each matching event
with a :class:`bot.context.Context` that holds the transaction, the group's settings and
the helpers to reply, award points and emit actions. Campaigns never see a platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from bot.config_types import ChatKey, Cron, Strict

if TYPE_CHECKING:
    from bot.context import Context


class CampaignConfig(Strict):
    """Keys every campaign table accepts."""

    type: str
    enabled: bool = True
    groups: list[ChatKey] | None = None  # omitted = every group
    starts: datetime | None = None
    ends: datetime | None = None


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command a campaign answers: ``/name``; ``description`` is an i18n key."""

    name: str
    description: str
    usage: str = ""
    admin: bool = False


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """A cron schedule, evaluated in each group's timezone."""

    cron: Cron
    name: str = "default"


class Campaign:
    """Base class: subclasses set ``type``/``config_model`` and override what they need."""

    type: ClassVar[str]
    config_model: ClassVar[type[CampaignConfig]]

    def __init__(self, name: str, config: CampaignConfig) -> None:
        self.name = name
        self.config = config

    def commands(self) -> list[CommandSpec]:
        return []

    def aliases(self) -> dict[str, str]:
        """Exact message texts that count as a command, e.g. ``{"签到": "checkin"}``."""
        return {}

    def schedules(self) -> list[ScheduleSpec]:
        return []

    def applies_to(self, chat_key: str | None) -> bool:
        groups = self.config.groups
        return groups is None or chat_key in groups

    def active_at(self, when: datetime) -> bool:
        c = self.config
        return c.enabled and (c.starts is None or when >= c.starts) and (c.ends is None or when <= c.ends)

    async def handle(self, ctx: Context) -> None:
        """React to one event (already filtered by group, window and command ownership)."""


REGISTRY: dict[str, type[Campaign]] = {}


def register(cls: type[Campaign]) -> type[Campaign]:
    """Class decorator: make a campaign type available to the config by its ``type``."""
    REGISTRY[cls.type] = cls
    return cls
