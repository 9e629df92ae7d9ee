"""The shared event model: what every adapter turns platform payloads into.

Plain frozen, slotted dataclasses (no validation: an adapter built them). Ids are
strings everywhere; a member's key is ``"{platform}:{user_id}"``, a chat's
``"{platform}:{chat_id}"``. ``raw`` keeps the platform payload for debugging and is
excluded from ``repr`` so it never reaches a log whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal


class EventKind(StrEnum):
    MESSAGE_CREATED = "message.created"
    COMMAND_INVOKED = "command.invoked"
    MEMBER_JOINED = "member.joined"
    MEMBER_LEFT = "member.left"
    BUTTON_CLICKED = "button.clicked"
    REACTION_ADDED = "reaction.added"
    POLL_ANSWERED = "poll.answered"
    TIMER_FIRED = "timer.fired"


def key(platform: str, ident: str) -> str:
    """The global key of a member or chat: ``platform:id``."""
    return f"{platform}:{ident}"


def split_key(value: str) -> tuple[str, str]:
    """Inverse of :func:`key`; the id part may itself contain colons."""
    platform, _, ident = value.partition(":")
    if not platform or not ident:
        raise ValueError(f"not a platform:id key: {value!r}")
    return platform, ident


# --- message elements -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Mention:
    user_id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class Image:
    url: str


Element = Text | Mention | Link | Image


def plain_text(elements: tuple[Element, ...]) -> str:
    """The message as a member typed it: text, mentions as ``@name``, links as their text."""
    parts: list[str] = []
    for el in elements:
        if isinstance(el, Text):
            parts.append(el.text)
        elif isinstance(el, Mention):
            parts.append(f"@{el.name or el.user_id}")
        elif isinstance(el, Link):
            parts.append(el.text or el.url)
    return "".join(parts)


# --- participants -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class User:
    platform: str
    id: str
    name: str = ""
    is_bot: bool = False
    language: str | None = None

    @property
    def key(self) -> str:
        return key(self.platform, self.id)


ChatType = Literal["group", "private", "channel"]


@dataclass(frozen=True, slots=True)
class Chat:
    platform: str
    id: str
    title: str = ""
    type: ChatType = "group"

    @property
    def key(self) -> str:
        return key(self.platform, self.id)


Confidence = Literal["exact", "approximate", "unknown"]


@dataclass(frozen=True, slots=True)
class Invite:
    """How a member joined, where the platform reports it."""

    code: str | None = None
    creator: str | None = None  # member key of whoever owns the link
    name: str | None = None
    via: str = "link"  # link, invited_by, request, vanity, qr, ...
    confidence: Confidence = "exact"
    rejoin: bool = False  # the platform says the member was in the group before (Discord's DID_REJOIN)
    campaign: str | None = None  # the campaign the invite was made for (a WeCom join way names one)


# --- the envelope -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened, on any platform or on the scheduler.

    ``id`` is stable across redelivery; together with ``platform`` and ``self_id`` it is
    the dedup key. ``at`` is timezone-aware UTC.
    """

    id: str
    kind: EventKind
    platform: str
    self_id: str
    at: datetime
    chat: Chat | None = None
    user: User | None = None
    message: tuple[Element, ...] = ()
    message_id: str | None = None
    reply_to: str | None = None
    edited: bool = False
    invite: Invite | None = None
    button_data: str | None = None
    callback_id: str | None = None
    reaction: str | None = None
    poll_id: str | None = None
    option_ids: tuple[int, ...] = ()
    timer: str | None = None  # the schedule or timer name for timer.fired
    admin: bool = False  # the platform reports the sender as a chat admin/owner
    data: Any = field(default=None, compare=False)  # a timer's payload (JSON-ready dict)
    raw: Any = field(default=None, repr=False, compare=False)

    @property
    def text(self) -> str:
        return plain_text(self.message)

    @property
    def member_key(self) -> str | None:
        return self.user.key if self.user else None

    @property
    def chat_key(self) -> str | None:
        return self.chat.key if self.chat else None

    @property
    def dedup_key(self) -> tuple[str, str, str]:
        return (self.platform, self.self_id, self.id)


@dataclass(frozen=True, slots=True)
class Command:
    """A command parsed once, in the engine, from a message's elements."""

    name: str  # canonical name, lower case, no slash
    args: tuple[str, ...] = ()
    raw_args: str = ""
    alias: bool = False  # matched a configured text alias such as 签到
