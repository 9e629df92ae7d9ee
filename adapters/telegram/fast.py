"""A fast path for the commonest update: a member's plain text message in a group.

aiogram's pydantic models cost more per update than the whole engine does for a check-in.
For updates of one exact, common shape — a ``message`` in a group or supergroup from a
user, with text and at most simple entities, nothing else — :func:`light_update` builds
light stand-ins with the attributes :mod:`adapters.telegram.decode` reads, so the same
decoder runs on them. Anything else (a key it does not know, media, replies, service
messages, callbacks, member updates, ...) returns None and goes through aiogram as before.
``tests/telegram/test_fast.py`` checks that both paths give the same events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_UPDATE_KEYS = frozenset({"update_id", "message"})
_MESSAGE_KEYS = frozenset({"message_id", "from", "chat", "date", "text", "entities"})
_CHAT_KEYS = frozenset({"id", "type", "title", "username", "is_forum", "all_members_are_administrators"})
_USER_KEYS = frozenset({"id", "is_bot", "first_name", "last_name", "username", "language_code", "is_premium"})
_ENTITY_KEYS = frozenset({"type", "offset", "length"})
_ENTITY_TYPES = frozenset({"bot_command", "mention", "hashtag", "cashtag", "url", "bold", "italic", "code"})


@dataclass(frozen=True, slots=True)
class LightEntity:
    type: str
    offset: int
    length: int
    url: None = None
    user: None = None


@dataclass(frozen=True, slots=True)
class LightUser:
    id: int
    is_bot: bool
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None


@dataclass(frozen=True, slots=True)
class LightChat:
    id: int
    type: str
    title: str | None
    username: str | None
    first_name: None = None
    last_name: None = None


@dataclass(frozen=True, slots=True)
class LightMessage:
    """The attributes of ``aiogram.types.Message`` the decoder reads, for a plain text message."""

    message_id: int
    from_user: LightUser
    chat: LightChat
    date: datetime
    text: str
    entities: tuple[LightEntity, ...] | None
    sender_chat: None = None
    caption: None = None
    caption_entities: None = None
    photo: None = None
    new_chat_members: None = None
    left_chat_member: None = None
    migrate_to_chat_id: None = None
    migrate_from_chat_id: None = None
    reply_to_message: None = None
    edit_date: None = None


@dataclass(frozen=True, slots=True)
class LightUpdate:
    """The attributes of ``aiogram.types.Update`` the receiver and decoder read."""

    update_id: int
    message: LightMessage
    edited_message: None = None
    callback_query: None = None
    chat_member: None = None
    my_chat_member: None = None
    poll_answer: None = None
    message_reaction: None = None


def light_update(item: dict[str, Any]) -> LightUpdate | None:
    """``item`` as a :class:`LightUpdate` when it has exactly the plain-message shape, else None."""
    try:
        if item.keys() - _UPDATE_KEYS or not isinstance(item.get("update_id"), int):
            return None
        msg = item["message"]
        if msg.keys() - _MESSAGE_KEYS or not isinstance(msg.get("text"), str) or not msg["text"]:
            return None
        chat, user = msg["chat"], msg["from"]
        if chat.keys() - _CHAT_KEYS or chat.get("type") not in ("group", "supergroup"):
            return None
        if user.keys() - _USER_KEYS:
            return None
        entities = _entities(msg.get("entities"))
        if entities is False:
            return None
        return LightUpdate(
            item["update_id"],
            LightMessage(
                message_id=_int(msg["message_id"]),
                from_user=LightUser(
                    _int(user["id"]),
                    user["is_bot"] is True,
                    _str(user["first_name"]),
                    _opt_str(user.get("last_name")),
                    _opt_str(user.get("username")),
                    _opt_str(user.get("language_code")),
                ),
                chat=LightChat(
                    _int(chat["id"]), chat["type"], _opt_str(chat.get("title")), _opt_str(chat.get("username"))
                ),
                date=datetime.fromtimestamp(_int(msg["date"]), UTC),
                text=msg["text"],
                entities=entities,
            ),
        )
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError):
        return None  # not the shape after all: aiogram will parse it (or report why it cannot)


def _entities(raw: Any) -> tuple[LightEntity, ...] | bool | None:
    """The entities, None when there are none, False when any is not a simple one."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        return False
    out = []
    for e in raw:
        if not isinstance(e, dict) or e.keys() - _ENTITY_KEYS or e.get("type") not in _ENTITY_TYPES:
            return False
        out.append(LightEntity(e["type"], _int(e["offset"]), _int(e["length"])))
    return tuple(out) or None


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError("not an integer")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)
