"""QQ dispatch payloads → Hearth events, plus what the adapter itself must remember. Pure.

:func:`decode` never raises on a malformed payload (it returns ``None``): nothing a member or a
forged-but-signed body contains can crash the bot. Besides the :class:`bot.events.Event` it
reports the reply window the payload opens (its ``msg_id`` or ``event_id``), group state
changes (bot added/removed, proactive messages allowed/refused), the sender's ``union_openid``
and the interaction to acknowledge.

Event ids: ``msg:<message id>`` for messages, so an @-message delivered both as
``GROUP_AT_MESSAGE_CREATE`` and ``GROUP_MESSAGE_CREATE`` is one event; ``interaction:<id>``
for button clicks; ``evt:<platform event id>`` otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.events import Chat, Element, Event, EventKind, Invite, Mention, Text, User

PLATFORM = "qq"
GROUP_MESSAGES = ("GROUP_AT_MESSAGE_CREATE", "GROUP_MESSAGE_CREATE")
ROBOT_EVENTS = ("GROUP_ADD_ROBOT", "GROUP_DEL_ROBOT", "GROUP_MSG_RECEIVE", "GROUP_MSG_REJECT")
_MENTION = re.compile(r"<@!?([^>\s]+)>")
ADMIN_ROLES = ("owner", "admin")


@dataclass(frozen=True, slots=True)
class Window:
    """A received message or event a passive reply may answer."""

    ref: str  # the Hearth event id (what an action names as its cause)
    param: str  # "msg_id" or "event_id"
    value: str
    scope: str  # "group" or "c2c"
    target: str  # group openid or user openid
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class GroupChange:
    group: str
    at: datetime
    present: bool | None = None
    proactive: bool | None = None
    by: str | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    openid: str
    scope: str  # "member" or "user"
    at: datetime
    group: str | None = None
    union: str | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    type: str
    event: Event | None = None
    window: Window | None = None
    group: GroupChange | None = None
    identity: Identity | None = None
    interaction: str | None = None  # interaction id to acknowledge with PUT /interactions/{id}


def decode(payload: Any, self_id: str, now: datetime) -> Incoming | None:
    """One ``op`` 0 dispatch → :class:`Incoming`; ``None`` for types Hearth ignores or bad input."""
    try:
        return _decode(payload, self_id, now)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _decode(payload: dict, self_id: str, now: datetime) -> Incoming | None:
    kind, d = payload.get("t"), payload.get("d")
    if not isinstance(kind, str) or not isinstance(d, dict):
        return None
    at = _time(d.get("timestamp"), now)
    opened = min(at, now)
    outer = _str(payload.get("id"))
    if kind in GROUP_MESSAGES:
        return _group_message(kind, d, self_id, at, opened)
    if kind == "C2C_MESSAGE_CREATE":
        return _c2c_message(d, self_id, at, opened)
    if kind in ("GROUP_MEMBER_ADD", "GROUP_MEMBER_REMOVE"):
        group, member = _need(d, "group_openid"), _need(d, "member_openid")
        ident = outer or f"{kind}:{group}:{member}:{int(at.timestamp())}"
        joined = kind == "GROUP_MEMBER_ADD"
        event = Event(
            id=f"evt:{ident}",
            kind=EventKind.MEMBER_JOINED if joined else EventKind.MEMBER_LEFT,
            platform=PLATFORM,
            self_id=self_id,
            at=at,
            chat=Chat(PLATFORM, group),
            user=User(PLATFORM, member),
            invite=Invite(via="unknown", confidence="unknown") if joined else None,
            raw=payload,
        )
        window = Window(event.id, "event_id", ident, "group", group, opened) if joined and outer else None
        return Incoming(kind, event, window, identity=Identity(member, "member", at, group))
    if kind == "INTERACTION_CREATE":
        return _interaction(d, outer, self_id, at, opened, payload)
    if kind in ROBOT_EVENTS:
        group = _need(d, "group_openid")
        by = _str(d.get("op_member_openid"))
        change = {
            "GROUP_ADD_ROBOT": GroupChange(group, at, present=True, by=by),
            "GROUP_DEL_ROBOT": GroupChange(group, at, present=False, by=by),
            "GROUP_MSG_RECEIVE": GroupChange(group, at, proactive=True, by=by),
            "GROUP_MSG_REJECT": GroupChange(group, at, proactive=False, by=by),
        }[kind]
        opens = kind in ("GROUP_ADD_ROBOT", "GROUP_MSG_RECEIVE") and outer
        window = Window(f"evt:{outer}", "event_id", outer, "group", group, opened) if opens and outer else None
        return Incoming(kind, None, window, group=change)
    return None


def _group_message(kind: str, d: dict, self_id: str, at: datetime, opened: datetime) -> Incoming:
    msg_id, group = _need(d, "id"), _need(d, "group_openid")
    author = d.get("author") or {}
    member = _str(author.get("member_openid")) or _need(author, "id")
    elements = _elements(_str(d.get("content")) or "", d.get("mentions"), kind == "GROUP_AT_MESSAGE_CREATE")
    event = Event(
        id=f"msg:{msg_id}",
        kind=EventKind.MESSAGE_CREATED,
        platform=PLATFORM,
        self_id=self_id,
        at=at,
        chat=Chat(PLATFORM, group),
        user=User(PLATFORM, member, _str(author.get("username")) or "", is_bot=author.get("bot") is True),
        message=elements,
        message_id=msg_id,
        admin=author.get("member_role") in ADMIN_ROLES,
        raw={"t": kind, "d": d},
    )
    window = Window(event.id, "msg_id", msg_id, "group", group, opened)
    identity = Identity(member, "member", at, group, _str(author.get("union_openid")))
    return Incoming(kind, event, window, identity=identity)


def _c2c_message(d: dict, self_id: str, at: datetime, opened: datetime) -> Incoming:
    msg_id = _need(d, "id")
    author = d.get("author") or {}
    user = _str(author.get("user_openid")) or _need(author, "id")
    event = Event(
        id=f"msg:{msg_id}",
        kind=EventKind.MESSAGE_CREATED,
        platform=PLATFORM,
        self_id=self_id,
        at=at,
        user=User(PLATFORM, user, _str(author.get("username")) or ""),
        message=_elements(_str(d.get("content")) or "", d.get("mentions"), False),
        message_id=msg_id,
        raw={"t": "C2C_MESSAGE_CREATE", "d": d},
    )
    window = Window(event.id, "msg_id", msg_id, "c2c", user, opened)
    identity = Identity(user, "user", at, None, _str(author.get("union_openid")))
    return Incoming("C2C_MESSAGE_CREATE", event, window, identity=identity)


def _interaction(d: dict, outer: str | None, self_id: str, at: datetime, opened: datetime, raw: dict) -> Incoming:
    interaction = _need(d, "id")
    resolved = (d.get("data") or {}).get("resolved") or {}
    group = _str(d.get("group_openid"))
    if group is not None:
        chat: Chat | None = Chat(PLATFORM, group)
        user = _str(d.get("group_member_openid")) or _need(resolved, "user_id")
        scope, target = "group", group
    else:
        chat = None
        user = _str(d.get("user_openid")) or _need(resolved, "user_id")
        scope, target = "c2c", user
    event = Event(
        id=f"interaction:{interaction}",
        kind=EventKind.BUTTON_CLICKED,
        platform=PLATFORM,
        self_id=self_id,
        at=at,
        chat=chat,
        user=User(PLATFORM, user),
        button_data=_str(resolved.get("button_data")) or "",
        callback_id=interaction,
        raw=raw,
    )
    window = Window(event.id, "event_id", outer, scope, target, opened) if outer else None
    return Incoming("INTERACTION_CREATE", event, window, interaction=interaction)


def _elements(content: str, mentions: Any, at_bot: bool) -> tuple[Element, ...]:
    """Text and mentions; the leading mention of the bot and surrounding whitespace removed."""
    names: dict[str, str] = {}
    mine: set[str] = set()
    for m in mentions if isinstance(mentions, list) else ():
        if isinstance(m, dict):
            ident = _str(m.get("member_openid")) or _str(m.get("id"))
            if ident:
                names[ident] = _str(m.get("username")) or ""
                if m.get("is_you") is True:
                    mine.add(ident)
    text = content.lstrip()
    while (lead := _MENTION.match(text)) and (lead.group(1) in mine or (at_bot and lead.group(1) not in names)):
        text = text[lead.end() :].lstrip()
    out: list[Element] = []
    pos = 0
    for m in _MENTION.finditer(text):
        if m.start() > pos:
            out.append(Text(text[pos : m.start()]))
        out.append(Mention(m.group(1), names.get(m.group(1), "")))
        pos = m.end()
    rest = text[pos:].rstrip()
    if rest:
        out.append(Text(rest))
    return tuple(out)


def _time(value: Any, now: datetime) -> datetime:
    """ISO 8601 (messages) or Unix seconds (robot events), as aware UTC; ``now`` if unreadable."""
    try:
        if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
            return datetime.fromtimestamp(int(value), UTC)
        if isinstance(value, str) and value:
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is not None:
                return parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        pass
    return now


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _need(d: dict, name: str) -> str:
    value = d.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"missing {name}")
    return value
