"""Pure mapping of the sandbox page's WebSocket frames to events (no I/O).

Frames the page sends (JSON objects; unknown extra fields are ignored):

- ``{"op": "say", "chat": "g1", "user": "alice", "text": "/checkin"}`` — a member writes.
- ``{"op": "join", "chat": "g1", "user": "bob", "invite": "CODE"}`` — joins (``invite`` optional).
- ``{"op": "leave", "chat": "g1", "user": "bob"}`` — leaves.
- ``{"op": "press", "chat": "g1", "user": "bob", "data": "<button data>", "message": 12}`` —
  presses a button of the bot's message 12.

``name`` (display name) is optional on every frame. Anything else raises :class:`BadFrame`
with a short message meant for the page; :func:`decode` never raises any other exception.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.events import Chat, Event, EventKind, Invite, Text, User

PLATFORM = "sandbox"
SELF_ID = "hearth"
OPS = ("say", "join", "leave", "press")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_TEXT = 4000
MAX_DISPLAY_NAME = 60
MAX_INVITE = 64
MAX_DATA = 64
MAX_MESSAGE_REF = 20


class BadFrame(ValueError):
    """A frame the page should never send; answered with an error, never raised further."""


def _name(frame: dict[str, Any], field: str) -> str:
    value = frame.get(field)
    if not isinstance(value, str) or not _NAME.match(value):
        raise BadFrame(f"{field} must be 1-40 letters, digits, _ or -")
    return value


def _optional_str(frame: dict[str, Any], field: str, limit: int) -> str | None:
    value = frame.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadFrame(f"{field} must be a string")
    if len(value) > limit:
        raise BadFrame(f"{field} is longer than {limit} characters")
    return value


def _message_ref(frame: dict[str, Any]) -> str | None:
    value = frame.get("message")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadFrame("message must be a message id")
    ref = str(value)
    if not ref or len(ref) > MAX_MESSAGE_REF:
        raise BadFrame("message must be a message id")
    return ref


def decode(
    frame: dict[str, Any], ident: str, at: datetime, titles: dict[str, str], invite_creator: str | None = None
) -> Event:
    """The event a frame stands for; ``ident`` is the platform's id for it (stable).

    Raises :class:`BadFrame` (and nothing else) for a frame the page should not have sent.
    """
    if not isinstance(frame, dict):
        raise BadFrame("a frame is a JSON object")
    op = frame.get("op")
    if op not in OPS:
        raise BadFrame(f"unknown op {str(op)[:20]!r}; known: {', '.join(OPS)}")
    chat_id = _name(frame, "chat")
    user_id = _name(frame, "user")
    display = _optional_str(frame, "name", MAX_DISPLAY_NAME)
    chat = Chat(PLATFORM, chat_id, titles.get(chat_id, chat_id))
    user = User(PLATFORM, user_id, (display or user_id).strip() or user_id)
    if op == "say":
        text = frame.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadFrame("text must be a non-empty string")
        if len(text) > MAX_TEXT:
            raise BadFrame(f"text is longer than {MAX_TEXT} characters")
        return Event(
            f"msg:{ident}",
            EventKind.MESSAGE_CREATED,
            PLATFORM,
            SELF_ID,
            at,
            chat,
            user,
            (Text(text),),
            message_id=ident,
            raw=frame,
        )
    if op == "join":
        code = _optional_str(frame, "invite", MAX_INVITE)
        invite = None
        if code is not None:
            invite = Invite(code=code, creator=invite_creator, confidence="exact" if invite_creator else "unknown")
        return Event(
            f"join:{ident}", EventKind.MEMBER_JOINED, PLATFORM, SELF_ID, at, chat, user, invite=invite, raw=frame
        )
    if op == "leave":
        return Event(f"leave:{ident}", EventKind.MEMBER_LEFT, PLATFORM, SELF_ID, at, chat, user, raw=frame)
    data = frame.get("data")
    if not isinstance(data, str) or not data or len(data) > MAX_DATA:
        raise BadFrame(f"data must be a string of 1-{MAX_DATA} characters")
    return Event(
        f"press:{ident}",
        EventKind.BUTTON_CLICKED,
        PLATFORM,
        SELF_ID,
        at,
        chat,
        user,
        message_id=_message_ref(frame),
        button_data=data,
        callback_id=ident,
        raw=frame,
    )
