"""Pure mapping of Discord gateway dispatches (``{"op": 0, "t": ..., "d": ...}``) to Hearth events.

No I/O and no discord.py objects: the input is the JSON the gateway sent, so the decoder is
tested on recorded payloads. What needs a lookup (which invite a newcomer used, whether a
message's author is an admin, which channels a leaver was active in, long button payloads)
is filled in afterwards by :mod:`adapters.discord.receive`.

Event ids are stable across redelivery (a resumed session replays dispatches):

* message ``msg:<message id>``; slash command and button press ``interaction:<interaction id>``
* join ``join:<guild>:<user>:<unix joined_at>``; leave ``left:<guild>:<user>:<unix received>``
* reaction ``reaction:<channel>:<message>:<user>:<emoji>:<unix received>``

Only configured channels are groups (``discord:<channel id>``); direct messages are private
chats keyed by their DM channel. Everything else returns None.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adapters.discord.settings import PLATFORM
from adapters.discord.slash import invocation
from bot.command_menu import MenuCommand
from bot.events import Chat, Element, Event, EventKind, Image, Mention, Text, User

DISCORD_EPOCH_MS = 1420070400000
BUTTON_PREFIX = "h:"  # custom_id = prefix + the button's data
LONG_PREFIX = "h#"  # custom_id = prefix + a token; the data is stored (longer than 100 characters)
INTERACTION = "interaction:"  # message_id of a slash command event: replies go through the interaction
ADMINISTRATOR, MANAGE_GUILD = 1 << 3, 1 << 5
DID_REJOIN = 1 << 0  # guild member flag: left the guild before and came back
_USER_TEXT = (0, 19)  # message types a member writes: DEFAULT, REPLY (joins, pins ... are system messages)
_MENTION = re.compile(r"<@!?(\d{1,20})>")
LANGUAGES = {"zh": "zh", "en": "en", "ru": "ru"}


@dataclass(frozen=True, slots=True)
class Me:
    """Who the bot is and where it works: what decoding needs to know."""

    id: str  # the bot's user id (the events' self_id)
    guild_of: Mapping[str, str]  # configured channel id -> its guild id
    home: Mapping[str, str]  # guild id -> the channel where its joins and leaves count
    menu: Mapping[str, MenuCommand] = field(default_factory=dict)  # slash commands by name


def chat_key(channel_id: str | int) -> str:
    return f"{PLATFORM}:{channel_id}"


def member_key(user_id: str | int) -> str:
    return f"{PLATFORM}:{user_id}"


def snowflake_time(snowflake: str | int) -> datetime:
    return datetime.fromtimestamp(((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)


def _time(value: str | None, fallback: datetime) -> datetime:
    if not value:
        return fallback
    parsed = datetime.fromisoformat(value)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _language(locale: str | None) -> str | None:
    return LANGUAGES.get((locale or "").split("-")[0].lower())


def user_of(user: Mapping[str, Any], member: Mapping[str, Any] | None = None, locale: str | None = None) -> User:
    """A member as Hearth sees them: their server nickname, else display name, else username."""
    name = (member or {}).get("nick") or user.get("global_name") or user.get("username") or str(user["id"])
    return User(PLATFORM, str(user["id"]), str(name)[:64], bool(user.get("bot", False)), _language(locale))


def is_admin(member: Mapping[str, Any] | None) -> bool:
    """From an interaction's resolved ``permissions`` (Administrator or Manage Server)."""
    try:
        bits = int((member or {}).get("permissions") or 0)
    except (TypeError, ValueError):
        return False
    return bool(bits & (ADMINISTRATOR | MANAGE_GUILD))


def _chat(d: Mapping[str, Any], me: Me) -> Chat | None:
    """The configured channel (a group) or the DM channel (private) an event happened in."""
    channel = str(d.get("channel_id") or "")
    if not channel:
        return None
    guild = d.get("guild_id")
    if guild is None:
        return Chat(PLATFORM, channel, "", "private")
    if me.guild_of.get(channel) != str(guild):
        return None  # a channel Hearth does not work in (or a thread of one)
    return Chat(PLATFORM, channel, "", "group")


def elements(content: str, mentions: list[Mapping[str, Any]]) -> list[Element]:
    """Text with ``<@id>`` mentions as :class:`Mention` (named as the message names them)."""
    names = {str(m.get("id")): user_of(m, m.get("member")).name for m in mentions if m.get("id")}
    out: list[Element] = []
    pos = 0
    for m in _MENTION.finditer(content):
        if m.start() > pos:
            out.append(Text(content[pos : m.start()]))
        out.append(Mention(m.group(1), names.get(m.group(1), "")))
        pos = m.end()
    if pos < len(content):
        out.append(Text(content[pos:]))
    return out


# --- the decoder ----------------------------------------------------------------------------------


def decode(payload: Mapping[str, Any], me: Me, received: datetime) -> Event | None:
    """The event a gateway dispatch stands for, or None for what Hearth ignores.

    ``received`` dates what Discord does not (leaves, reactions).
    """
    if payload.get("op", 0) != 0:
        return None
    d = payload.get("d")
    if not isinstance(d, Mapping):
        return None
    kind = payload.get("t")
    if kind == "MESSAGE_CREATE":
        return _message(d, me, payload)
    if kind == "INTERACTION_CREATE":
        return _interaction(d, me, payload)
    if kind == "GUILD_MEMBER_ADD":
        return _member(d, me, EventKind.MEMBER_JOINED, payload, _utc(received))
    if kind == "GUILD_MEMBER_REMOVE":
        return _member(d, me, EventKind.MEMBER_LEFT, payload, _utc(received))
    if kind == "MESSAGE_REACTION_ADD":
        return _reaction(d, me, payload, _utc(received))
    return None


def _message(d: Mapping[str, Any], me: Me, raw: Any) -> Event | None:
    author = d.get("author") or {}
    if not author.get("id") or str(author["id"]) == me.id or d.get("webhook_id") or d.get("type", 0) not in _USER_TEXT:
        return None
    chat = _chat(d, me)
    if chat is None:
        return None
    parts = elements(str(d.get("content") or ""), list(d.get("mentions") or ()))
    for attachment in d.get("attachments") or ():
        if str(attachment.get("content_type", "")).startswith("image/") and attachment.get("url"):
            parts.append(Image(str(attachment["url"])))
    reference = d.get("message_reference") or {}
    at = _time(d.get("timestamp"), snowflake_time(d["id"]))
    return Event(
        f"msg:{d['id']}",
        EventKind.MESSAGE_CREATED,
        PLATFORM,
        me.id,
        at,
        chat,
        user_of(author, d.get("member")),
        tuple(parts),  # empty without the message_content intent: the message still counts as activity
        message_id=str(d["id"]),
        reply_to=str(reference["message_id"]) if reference.get("message_id") else None,
        raw=raw,
    )


def _interaction(d: Mapping[str, Any], me: Me, raw: Any) -> Event | None:
    chat = _chat(d, me)
    member = d.get("member")
    user = (member or {}).get("user") or d.get("user")
    data = d.get("data") or {}
    if chat is None or not user:
        return None
    common = dict(
        platform=PLATFORM,
        self_id=me.id,
        at=snowflake_time(d["id"]),
        chat=chat,
        user=user_of(user, member, d.get("locale")),
        admin=chat.type == "group" and is_admin(member),
        raw=raw,
    )
    ident = f"{INTERACTION}{d['id']}"
    if d.get("type") == 2 and data.get("type", 1) == 1:
        message = invocation(data, me.menu)
        return Event(ident, EventKind.COMMAND_INVOKED, message=message, message_id=ident, **common)  # type: ignore[arg-type]
    if d.get("type") == 3 and data.get("component_type") == 2:
        custom_id = str(data.get("custom_id", ""))
        if custom_id.startswith(BUTTON_PREFIX):
            button = custom_id[len(BUTTON_PREFIX) :]
        elif custom_id.startswith(LONG_PREFIX):
            button = custom_id  # the receiver looks the stored data up
        else:
            return None  # not a Hearth button
        message_id = str((d.get("message") or {}).get("id") or "") or None
        return Event(
            ident,
            EventKind.BUTTON_CLICKED,
            message_id=message_id,
            button_data=button,
            callback_id=str(d["id"]),
            **common,  # type: ignore[arg-type]
        )
    return None


def _member(d: Mapping[str, Any], me: Me, kind: EventKind, raw: Any, received: datetime) -> Event | None:
    guild, user = str(d.get("guild_id") or ""), d.get("user") or {}
    home = me.home.get(guild)
    if home is None or not user.get("id") or str(user["id"]) == me.id:
        return None
    who = user_of(user, d)
    if kind is EventKind.MEMBER_JOINED:
        at = _time(d.get("joined_at"), received)
        ident = f"join:{guild}:{who.id}:{int(at.timestamp())}"
    else:
        at = received
        ident = f"left:{guild}:{who.id}:{int(at.timestamp())}"
    return Event(ident, kind, PLATFORM, me.id, at, Chat(PLATFORM, home, "", "group"), who, raw=raw)


def emoji_name(emoji: Mapping[str, Any]) -> str:
    if emoji.get("id"):
        return f"custom:{emoji['id']}"
    return str(emoji.get("name") or "")


def _reaction(d: Mapping[str, Any], me: Me, raw: Any, received: datetime) -> Event | None:
    user_id = str(d.get("user_id") or "")
    chat = _chat(d, me)
    if chat is None or not user_id or user_id == me.id:
        return None
    member = d.get("member") or {}
    user = user_of(member.get("user") or {"id": user_id}, member)
    name = emoji_name(d.get("emoji") or {})
    return Event(
        f"reaction:{chat.id}:{d['message_id']}:{user_id}:{name}:{int(received.timestamp())}",
        EventKind.REACTION_ADDED,
        PLATFORM,
        me.id,
        received,
        chat,
        user,
        message_id=str(d["message_id"]),
        reaction=name,
        raw=raw,
    )


def rejoined(payload: Mapping[str, Any]) -> bool:
    """A ``GUILD_MEMBER_ADD`` of someone Discord says was in the guild before."""
    d = payload.get("d") or {}
    return bool(int(d.get("flags") or 0) & DID_REJOIN)
