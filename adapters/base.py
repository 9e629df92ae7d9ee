"""The ``Adapter`` protocol every platform implements, its capability flags and errors.

An adapter knows one platform and nothing about campaigns. It decodes platform payloads
into :class:`bot.events.Event` and hands them to an :class:`EventSink` (the engine's intake),
which returns only after they are durably committed. The sender calls :meth:`Adapter.perform`
for each outbox action; the adapter raises :class:`TemporaryError` (healable: network, 429,
5xx, with ``retry_after`` when the platform says) or :class:`PermanentError` (never retried).

Optional, where a platform needs them: ``groups`` (chat key -> title of the groups it knows
before any event, for schedules), ``set_commands(menu)`` (the app hands over the command
registry as :mod:`bot.command_menu` entries, for native command menus) and
``mergeable(action) -> bool`` (False keeps a backlogged message out of the sender's merging).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.actions import Action
from bot.events import Event
from bot.ratelimit import RateLimits


class Feature(StrEnum):
    BUTTONS = "buttons"
    DIRECT_MESSAGES = "direct_messages"
    INVITE_LINKS = "invite_links"  # per-member invite links
    JOIN_ATTRIBUTION = "join_attribution"  # reports which invite a member used
    POLLS = "polls"
    DELETE = "delete"
    MUTE = "mute"
    KICK = "kick"
    REPLIES = "replies"
    REACTIONS = "reactions"  # emoji reactions on messages (actions.React)


@dataclass(frozen=True, slots=True)
class SendResult:
    message_id: str | None = None
    data: dict | None = None  # e.g. the invite link created


class TemporaryError(Exception):
    """A failure that may heal: retry, after ``retry_after`` seconds if given.

    ``not_sent=True`` says the action certainly never reached the platform (no connection to
    send it on): the sender holds it until the platform is back without counting a try, so an
    outage of any length loses nothing.
    """

    def __init__(self, message: str, retry_after: float | None = None, *, not_sent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.not_sent = not_sent


class PermanentError(Exception):
    """A failure that will not heal (bot removed, chat gone, forbidden): record, never retry."""


class EventSink(Protocol):
    async def submit(self, events: Sequence[Event]) -> None:
        """Return once the events are committed (or were already)."""
        ...


class Adapter(Protocol):
    platform: str
    features: frozenset[Feature]
    limits: RateLimits

    async def start(self, sink: EventSink) -> None:
        """Begin receiving; return once running (receiving continues in background tasks)."""
        ...

    async def stop(self) -> None: ...

    async def perform(self, action: Action, idempotency_key: str) -> SendResult:
        """Carry out one action on the platform; ``idempotency_key`` is stable across retries."""
        ...
