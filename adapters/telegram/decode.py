"""Pure mapping of Telegram updates (aiogram ``Update`` objects) to Hearth events. No I/O.

Event ids are derived from the content, never from ``update_id`` alone (``update_id``
restarts at a random value after a week without updates), and are stable across
redelivery:

* message ``msg:<chat>:<message_id>``, edit ``edit:<chat>:<message_id>:<edit_date>``
* join ``join:<chat>:<user>:<unix date>``, leave ``left:<chat>:<user>:<unix date>`` — the
  same id whether the join arrived as a ``new_chat_members`` service message or as a
  ``chat_member`` update, so the engine's dedup folds the two into one ``member.joined``
  (the receiver also prefers the ``chat_member`` one, which carries the invite link)
* button ``callback:<callback_query_id>``, poll answer ``poll:<poll>:<user>:<update_id>``,
  reaction ``reaction:<chat>:<message>:<user>:<update_id>:<emoji>``

Chat-level facts that are not events (the bot's own membership, group → supergroup
migration, admin changes) have their own pure helpers below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram.types import ChatMemberUpdated, Message, Update

from adapters.telegram.text import command_at_start, elements
from bot.events import Chat, ChatType, Event, EventKind, Image, Invite, Text, User

PLATFORM = "telegram"
_PRESENT = ("member", "administrator", "creator")
_ADMIN = ("administrator", "creator")
_INVITE_NAME = re.compile(r"(?:^|\s)ref:(\d{1,20})$")


@dataclass(frozen=True, slots=True)
class Me:
    """Who the bot is: its user id (the events' ``self_id``) and username (without ``@``)."""

    id: str
    username: str


@dataclass(frozen=True, slots=True)
class ChatStatus:
    """The bot's own membership in a chat changed (``my_chat_member``)."""

    chat: str
    title: str
    active: bool
    at: datetime


def chat_key(chat_id: int | str) -> str:
    return f"{PLATFORM}:{chat_id}"


def member_key(user_id: int | str) -> str:
    return f"{PLATFORM}:{user_id}"


def invite_name(label: str, user_id: str, limit: int = 32) -> str:
    """A link name within Telegram's 32 characters that still names the member: ``<label> ref:<id>``."""
    suffix = f"ref:{user_id}"
    room = limit - len(suffix) - 1
    label = " ".join(label.split())[: max(room, 0)].strip()
    return f"{label} {suffix}" if label else suffix


def member_from_invite_name(name: str | None) -> str | None:
    """Inverse of :func:`invite_name`: the member key a link name encodes, if any."""
    m = _INVITE_NAME.search(name or "")
    return member_key(m.group(1)) if m else None


# --- small builders -------------------------------------------------------------------------------


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _unix(value: datetime | int) -> int:
    return value if isinstance(value, int) else int(_utc(value).timestamp())


def _language(code: str | None) -> str | None:
    return code.split("-")[0].lower()[:8] if code else None


def user_of(u: Any) -> User:
    name = " ".join(p for p in (u.first_name, u.last_name) if p) or (u.username or str(u.id))
    return User(PLATFORM, str(u.id), name[:64], bool(u.is_bot), _language(u.language_code))


def chat_of(c: Any) -> Chat:
    kind: ChatType = "private" if c.type == "private" else "channel" if c.type == "channel" else "group"
    title = c.title or " ".join(p for p in (c.first_name, c.last_name) if p) or (c.username or "")
    return Chat(PLATFORM, str(c.id), title[:200], kind)


def _present(member: Any) -> bool:
    if member.status == "restricted":
        return bool(getattr(member, "is_member", False))
    return member.status in _PRESENT


# --- the decoder ----------------------------------------------------------------------------------


def decode(update: Update, me: Me, received: datetime) -> Event | None:
    """The event one update stands for (the first, for a join message naming several people)."""
    events = decode_all(update, me, received)
    return events[0] if events else None


def decode_all(update: Update, me: Me, received: datetime) -> list[Event]:
    """Every event an update stands for; ``[]`` for updates Hearth ignores.

    ``received`` is when the update arrived: the time of button presses and poll answers,
    which Telegram does not date.
    """
    if update.message is not None:
        return _message(update.message, me, update, edited=False)
    if update.edited_message is not None:
        return _message(update.edited_message, me, update, edited=True)
    if update.callback_query is not None:
        return _callback(update, me, _utc(received))
    if update.chat_member is not None:
        return _member_update(update.chat_member, me, update)
    if update.poll_answer is not None:
        return _poll_answer(update, me, _utc(received))
    if update.message_reaction is not None:
        return _reaction(update, me)
    return []


def _message(msg: Message, me: Me, update: Update, edited: bool) -> list[Event]:
    chat = chat_of(msg.chat)
    if chat.type == "channel":
        return []
    at = _utc(msg.date)
    if msg.new_chat_members:
        adder = msg.from_user
        return [
            _join(chat, user_of(u), at, _added_by(adder, u), update, me)
            for u in msg.new_chat_members
            if str(u.id) != me.id
        ]
    if msg.left_chat_member is not None:
        gone = msg.left_chat_member
        if str(gone.id) == me.id:
            return []
        return [
            Event(
                _left_id(chat, gone.id, at), EventKind.MEMBER_LEFT, PLATFORM, me.id, at, chat, user_of(gone), raw=update
            )
        ]
    if msg.from_user is None or msg.sender_chat is not None:
        return []  # posted on behalf of a channel or an anonymous admin: not a member
    text = msg.text if msg.text is not None else (msg.caption or "")
    entities = msg.entities if msg.text is not None else msg.caption_entities
    parts = list(elements(text, entities))
    command = command_at_start(text, entities)
    if command is not None and "@" in command:
        target = command.partition("@")[2]
        if target.lower() != me.username.lower():
            return []  # /cmd@OtherBot: addressed to another bot
        first = parts[0]
        if isinstance(first, Text) and first.text.startswith(command):
            parts[0] = Text(command.partition("@")[0] + first.text[len(command) :])
    if msg.photo:
        parts.append(Image(f"tg-file:{msg.photo[-1].file_id}"))
    if not parts:
        return []  # a service message Hearth has no use for (pins, titles, ...)
    if edited:
        stamp = _unix(msg.edit_date) if msg.edit_date else update.update_id
        ident = f"edit:{chat.id}:{msg.message_id}:{stamp}"
    else:
        ident = f"msg:{chat.id}:{msg.message_id}"
    reply = msg.reply_to_message.message_id if msg.reply_to_message is not None else None
    return [
        Event(
            ident,
            EventKind.MESSAGE_CREATED,
            PLATFORM,
            me.id,
            at,
            chat,
            user_of(msg.from_user),
            tuple(parts),
            message_id=str(msg.message_id),
            reply_to=str(reply) if reply is not None else None,
            edited=edited,
            raw=update,
        )
    ]


def _added_by(adder: Any, joined: Any) -> Invite | None:
    if adder is None or adder.id == joined.id:
        return None
    return Invite(creator=member_key(adder.id), via="invited_by")


def _join(chat: Chat, user: User, at: datetime, invite: Invite | None, update: Update, me: Me) -> Event:
    ident = f"join:{chat.id}:{user.id}:{_unix(at)}"
    return Event(ident, EventKind.MEMBER_JOINED, PLATFORM, me.id, at, chat, user, invite=invite, raw=update)


def _left_id(chat: Chat, user_id: int | str, at: datetime) -> str:
    return f"left:{chat.id}:{user_id}:{_unix(at)}"


def _member_update(cm: ChatMemberUpdated, me: Me, update: Update) -> list[Event]:
    chat = chat_of(cm.chat)
    joined = cm.new_chat_member.user
    if str(joined.id) == me.id:
        return []
    at = _utc(cm.date)
    was, now = _present(cm.old_chat_member), _present(cm.new_chat_member)
    if not was and now:
        return [_join(chat, user_of(joined), at, invite_of(cm, me), update, me)]
    if was and not now:
        ident = _left_id(chat, joined.id, at)
        return [Event(ident, EventKind.MEMBER_LEFT, PLATFORM, me.id, at, chat, user_of(joined), raw=update)]
    return []


def invite_of(cm: ChatMemberUpdated, me: Me) -> Invite | None:
    """How a member came in, as exactly as ``chat_member`` reports it."""
    link = cm.invite_link
    if link is not None:
        made_by_bot = str(link.creator.id) == me.id
        owner = member_from_invite_name(link.name) if made_by_bot else member_key(link.creator.id)
        return Invite(
            code=link.invite_link,
            creator=owner,
            name=link.name,
            via="link",
            confidence="exact" if owner else "unknown",
        )
    if cm.via_join_request:
        return Invite(via="request", confidence="unknown")
    if cm.via_chat_folder_invite_link:
        return Invite(via="folder", confidence="unknown")
    if cm.from_user is not None and cm.from_user.id != cm.new_chat_member.user.id:
        return Invite(creator=member_key(cm.from_user.id), via="invited_by")
    return None


def _callback(update: Update, me: Me, at: datetime) -> list[Event]:
    cq = update.callback_query
    assert cq is not None
    msg = cq.message
    chat = chat_of(msg.chat) if msg is not None else None
    return [
        Event(
            f"callback:{cq.id}",
            EventKind.BUTTON_CLICKED,
            PLATFORM,
            me.id,
            at,
            chat,
            user_of(cq.from_user),
            message_id=str(msg.message_id) if msg is not None else None,
            button_data=cq.data or "",
            callback_id=cq.id,
            raw=update,
        )
    ]


def _poll_answer(update: Update, me: Me, at: datetime) -> list[Event]:
    pa = update.poll_answer
    assert pa is not None
    if pa.user is None:
        return []  # answered on behalf of a chat: not a member
    ident = f"poll:{pa.poll_id}:{pa.user.id}:{update.update_id}"
    user = user_of(pa.user)
    return [
        Event(
            ident,
            EventKind.POLL_ANSWERED,
            PLATFORM,
            me.id,
            at,
            None,
            user,
            poll_id=pa.poll_id,
            option_ids=tuple(pa.option_ids),
            raw=update,
        )
    ]


def reaction_name(r: Any) -> str:
    if r.type == "emoji":
        return str(r.emoji)
    if r.type == "custom_emoji":
        return f"custom:{r.custom_emoji_id}"
    return str(r.type)


def _reaction(update: Update, me: Me) -> list[Event]:
    mr = update.message_reaction
    assert mr is not None
    if mr.user is None:
        return []  # an anonymous admin or a channel reacted
    chat, user, at = chat_of(mr.chat), user_of(mr.user), _utc(mr.date)
    before = {reaction_name(r) for r in mr.old_reaction}
    added = [name for name in dict.fromkeys(reaction_name(r) for r in mr.new_reaction) if name not in before]
    return [
        Event(
            f"reaction:{chat.id}:{mr.message_id}:{user.id}:{update.update_id}:{name}",
            EventKind.REACTION_ADDED,
            PLATFORM,
            me.id,
            at,
            chat,
            user,
            message_id=str(mr.message_id),
            reaction=name,
            raw=update,
        )
        for name in added
    ]


# --- chat-level facts -------------------------------------------------------------------------------


def chat_status(update: Update, me: Me) -> ChatStatus | None:
    """The bot was added to, removed from, or re-admitted to a chat (``my_chat_member``)."""
    cm = update.my_chat_member
    if cm is None or str(cm.new_chat_member.user.id) != me.id:
        return None
    chat = chat_of(cm.chat)
    return ChatStatus(chat.key, chat.title, _present(cm.new_chat_member), _utc(cm.date))


def migration(update: Update) -> tuple[str, str] | None:
    """``(old chat key, new chat key)`` when a group was upgraded to a supergroup."""
    msg = update.message
    if msg is None:
        return None
    if msg.migrate_to_chat_id:
        return chat_key(msg.chat.id), chat_key(msg.migrate_to_chat_id)
    if msg.migrate_from_chat_id:
        return chat_key(msg.migrate_from_chat_id), chat_key(msg.chat.id)
    return None


def admin_change(update: Update) -> str | None:
    """The chat whose administrator list this update changes (to refresh the admin cache)."""
    for cm in (update.chat_member, update.my_chat_member):
        if cm is None:
            continue
        old, new = cm.old_chat_member.status, cm.new_chat_member.status
        if old != new and (old in _ADMIN or new in _ADMIN):
            return chat_key(cm.chat.id)
    return None


def from_service_message(event: Event) -> bool:
    """True for joins and leaves reported by a service message (not by ``chat_member``)."""
    raw = event.raw
    return isinstance(raw, Update) and raw.message is not None
