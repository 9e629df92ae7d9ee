"""Pure mapping of the sandbox page's WebSocket frames to events (no I/O)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.events import Chat, Event, EventKind, Invite, Text, User

PLATFORM = "sandbox"
SELF_ID = "hearth"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_TEXT = 4000


class BadFrame(ValueError):
    """A frame the page should never send; answered with an error, never raised further."""


def _name(frame: dict[str, Any], field: str) -> str:
    value = frame.get(field)
    if not isinstance(value, str) or not _NAME.match(value):
        raise BadFrame(f"{field} must be 1-40 letters, digits, _ or -")
    return value


def decode(
    frame: dict[str, Any], ident: str, at: datetime, titles: dict[str, str], invite_creator: str | None = None
) -> Event | None:
    """The event a frame stands for; ``ident`` is the platform's id for it (stable)."""
    op = frame.get("op")
    if op not in ("say", "join", "leave", "press"):
        raise BadFrame(f"unknown op {str(op)[:20]!r}")
    chat_id = _name(frame, "chat")
    user_id = _name(frame, "user")
    chat = Chat(PLATFORM, chat_id, titles.get(chat_id, chat_id))
    user = User(PLATFORM, user_id, str(frame.get("name") or user_id)[:60])
    if op == "say":
        text = frame.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadFrame("text must be a non-empty string")
        return Event(
            f"msg:{ident}",
            EventKind.MESSAGE_CREATED,
            PLATFORM,
            SELF_ID,
            at,
            chat,
            user,
            (Text(text[:MAX_TEXT]),),
            message_id=ident,
            raw=frame,
        )
    if op == "join":
        code = frame.get("invite")
        invite = None
        if isinstance(code, str) and code:
            invite = Invite(code=code[:64], creator=invite_creator, confidence="exact" if invite_creator else "unknown")
        return Event(
            f"join:{ident}", EventKind.MEMBER_JOINED, PLATFORM, SELF_ID, at, chat, user, invite=invite, raw=frame
        )
    if op == "leave":
        return Event(f"leave:{ident}", EventKind.MEMBER_LEFT, PLATFORM, SELF_ID, at, chat, user, raw=frame)
    if op == "press":
        data = frame.get("data")
        if not isinstance(data, str) or not data or len(data) > 64:
            raise BadFrame("data must be a short string")
        message = frame.get("message")
        return Event(
            f"press:{ident}",
            EventKind.BUTTON_CLICKED,
            PLATFORM,
            SELF_ID,
            at,
            chat,
            user,
            message_id=str(message) if message is not None else None,
            button_data=data,
            callback_id=ident,
            raw=frame,
        )
    return None
