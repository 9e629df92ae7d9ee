"""What campaigns may ask a platform to do, as data, never as a call.

Campaigns return actions; the engine writes them to the outbox in the same transaction as
the state change; the sender hands them to the adapter. Actions round-trip through JSON
(:func:`dump` / :func:`load`) because the outbox stores them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Button:
    text: str
    data: str | None = None  # callback payload; comes back as button.clicked
    url: str | None = None


Buttons = tuple[tuple[Button, ...], ...]  # rows of buttons


@dataclass(frozen=True, slots=True)
class SendMessage:
    chat: str  # chat key
    content: str
    buttons: Buttons = ()
    reply_to: str | None = None
    delete_after: float | None = None  # seconds
    # the platform event id (Event.id) this answers, for platforms with reply windows (QQ)
    cause: str | None = None
    # a post to the whole group that answers nobody (a scheduled announcement): platforms where
    # the bot cannot chat may still deliver it as a broadcast a person confirms (WeCom)
    broadcast: bool = False
    kind: ClassVar[str] = "send_message"


@dataclass(frozen=True, slots=True)
class SendDirect:
    user: str  # member key
    content: str
    buttons: Buttons = ()
    fallback: dict[str, Any] | None = None  # a dumped action the sender queues if this fails for good
    kind: ClassVar[str] = "send_direct"


@dataclass(frozen=True, slots=True)
class DeleteMessage:
    chat: str
    message_id: str
    kind: ClassVar[str] = "delete_message"


@dataclass(frozen=True, slots=True)
class AnswerButton:
    callback_id: str
    text: str = ""
    alert: bool = False
    kind: ClassVar[str] = "answer_button"


@dataclass(frozen=True, slots=True)
class SendPoll:
    chat: str
    question: str
    options: tuple[str, ...]
    anonymous: bool = False
    multiple: bool = False
    kind: ClassVar[str] = "send_poll"


@dataclass(frozen=True, slots=True)
class CreateInviteLink:
    """Ask the platform for ``for_user``'s own invite link; the adapter returns it as
    ``SendResult.data["link"]``. The sender then queues ``notify`` (a dumped action whose
    content may hold ``{link}``), or ``fallback`` if no link could be made (bot/followups.py)."""

    chat: str
    for_user: str
    name: str = ""
    notify: dict[str, Any] | None = None
    fallback: dict[str, Any] | None = None
    kind: ClassVar[str] = "create_invite_link"


@dataclass(frozen=True, slots=True)
class MuteMember:
    chat: str
    user: str
    seconds: int = 0  # 0 = until lifted
    kind: ClassVar[str] = "mute_member"


@dataclass(frozen=True, slots=True)
class KickMember:
    chat: str
    user: str
    kind: ClassVar[str] = "kick_member"


@dataclass(frozen=True, slots=True)
class UnmuteMember:
    """Lift a :class:`MuteMember` restriction."""

    chat: str
    user: str
    kind: ClassVar[str] = "unmute_member"


@dataclass(frozen=True, slots=True)
class React:
    """Put an emoji reaction on a message (where the platform has reactions)."""

    chat: str
    message_id: str
    emoji: str
    kind: ClassVar[str] = "react"


Action = (
    SendMessage
    | SendDirect
    | DeleteMessage
    | AnswerButton
    | SendPoll
    | CreateInviteLink
    | MuteMember
    | KickMember
    | UnmuteMember
    | React
)

ACTION_TYPES: dict[str, type] = {
    cls.kind: cls
    for cls in (
        SendMessage,
        SendDirect,
        DeleteMessage,
        AnswerButton,
        SendPoll,
        CreateInviteLink,
        MuteMember,
        KickMember,
        UnmuteMember,
        React,
    )
}


def target_of(action: Action) -> str:
    """The chat (or member, for direct messages) whose rate limit and order the action obeys."""
    if isinstance(action, SendDirect):
        return action.user
    if isinstance(action, AnswerButton):
        return "callback"
    return action.chat


def dump(action: Action) -> dict[str, Any]:
    """JSON-ready dict with a ``type`` tag."""
    data = dataclasses.asdict(action)
    data["type"] = action.kind
    return data


def load(data: dict[str, Any]) -> Action:
    """Inverse of :func:`dump`."""
    data = dict(data)
    cls = ACTION_TYPES[data.pop("type")]
    if "buttons" in data:
        data["buttons"] = tuple(tuple(Button(**b) for b in row) for row in data["buttons"])
    if "options" in data:
        data["options"] = tuple(data["options"])
    return cls(**data)
