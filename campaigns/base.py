"""The ``Campaign`` interface every campaign type implements, and the registry by ``type``.

A campaign is built from its validated config table. It declares the commands it answers
and the schedules it wants; the engine calls :meth:`Campaign.handle` for each matching event
with a :class:`bot.context.Context` that holds the transaction, the group's settings and
the helpers to reply, award points and emit actions. Campaigns never see a platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from bot.config_types import ChatKey, Cron, Strict

if TYPE_CHECKING:
    from bot.config import Config
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
    # the first arguments this spec covers (``/quiz start`` and ``/quiz top`` may differ in
    # ``admin``); empty = every use of the command
    subcommands: tuple[str, ...] = ()
    # several campaigns of the same type may answer it in one group (they share the work)
    shared: bool = False
    # the answer concerns only the caller (``/me``): platforms that can show it to them alone do
    private: bool = False


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

    def setup(self, config: Config, campaigns: Sequence[Campaign]) -> None:
        """Optional: called once the engine built every campaign of ``config`` (in config
        order), e.g. to read files named relative to ``config.source`` or to find peers."""

    @classmethod
    def config_problems(cls, name: str, config: Config) -> Sequence[object]:
        """Optional, for ``hearth check``: what is wrong with campaign ``name`` in the context
        of the whole config, or in files it reads, as ``(location, message)`` findings in the
        config or :class:`bot.config_errors.Problem` objects located in those files."""
        return ()

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

    async def prefetch(self, contexts: Sequence[Context]) -> None:
        """Optional: before a batch, load in a few queries what :meth:`handle` will read for
        these contexts (all of the batch's events this campaign will see, in order), through
        memoising repository functions. Must not write: effects stay those of handling each
        event alone, in order."""

    async def handle(self, ctx: Context) -> None:
        """React to one event (already filtered by group, window and command ownership)."""


REGISTRY: dict[str, type[Campaign]] = {}


def register(cls: type[Campaign]) -> type[Campaign]:
    """Class decorator: make a campaign type available to the config by its ``type``."""
    REGISTRY[cls.type] = cls
    return cls
