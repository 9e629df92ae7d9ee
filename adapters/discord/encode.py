"""Pure mapping of Hearth actions to Discord REST requests (routes and JSON bodies). No I/O.

The performer sends each :class:`Request` through discord.py's HTTP client, which keeps
Discord's per-route and global rate limits. Text is plain: Markdown in it is escaped and
nothing pings (``allowed_mentions`` parses nothing), so a member named ``*everyone*`` or
``@here`` is shown as written. Content longer than Discord's 2000 characters is split;
buttons go on the last part.

Buttons are message components whose ``custom_id`` is ``h:<data>``. They stay valid forever
(no discord.py ``View`` is involved: the adapter decodes every component press), so they
keep working after a restart. Data that does not fit the 100-character ``custom_id`` is
stored, and the id carries ``h#<token>``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from discord.utils import escape_markdown

from adapters.base import PermanentError
from adapters.discord.decode import BUTTON_PREFIX, LONG_PREFIX
from bot import actions as act
from bot.events import split_key

MAX_CONTENT = 2000
MAX_CUSTOM_ID = 100
MAX_LABEL = 80
MAX_TIMEOUT = timedelta(days=28)  # Discord's longest timeout
EPHEMERAL = 1 << 6
NO_PINGS = {"parse": [], "replied_user": False}
INVITE_URL = "https://discord.gg/{code}"
LINK_STYLE, PRIMARY, SECONDARY = 5, 1, 2


@dataclass(frozen=True, slots=True)
class Request:
    """One REST call: a discord.py route template, its parameters and body."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | list[Any] | None = None
    reason: str | None = None
    query: dict[str, str] | None = None


def snowflake(key: str) -> str:
    """The id part of ``discord:<id>``; a permanent error for anything else."""
    platform, ident = split_key(key)
    if platform != "discord" or not ident.isdigit():
        raise PermanentError(f"{key} is not a Discord id")
    return ident


def long_token(data: str) -> str:
    return LONG_PREFIX + hashlib.sha256(data.encode()).hexdigest()[:40]


def custom_id(data: str) -> str:
    plain = BUTTON_PREFIX + data
    return plain if len(plain) <= MAX_CUSTOM_ID else long_token(data)


def long_button_data(buttons: act.Buttons) -> dict[str, str]:
    """``token → data`` for the buttons whose data must be stored."""
    return {custom_id(b.data): b.data for row in buttons for b in row if b.data and len(BUTTON_PREFIX + b.data) > 100}


def components(buttons: act.Buttons) -> list[dict[str, Any]]:
    """Action rows (at most 5 of 5 buttons, Discord's limit)."""
    rows = []
    for row in buttons[:5]:
        items = []
        for b in row[:5]:
            label = (b.text or "·")[:MAX_LABEL]
            if b.url:
                items.append({"type": 2, "style": LINK_STYLE, "label": label, "url": b.url})
            elif b.data is not None:
                items.append({"type": 2, "style": SECONDARY, "label": label, "custom_id": custom_id(b.data)})
        if items:
            rows.append({"type": 1, "components": items})
    return rows


def split_content(text: str) -> list[str]:
    """Escaped text in parts of at most 2000 characters, cut at line ends where possible."""
    text = escape_markdown(text, ignore_links=True) or "\u200b"
    parts: list[str] = []
    while len(text) > MAX_CONTENT:
        cut = text.rfind("\n", 0, MAX_CONTENT)
        if cut <= 0:
            cut = text.rfind(" ", 0, MAX_CONTENT)
        if cut <= 0:
            cut = MAX_CONTENT
        while cut > 1 and text[cut - 1] == "\\":  # never cut an escape from what it escapes
            cut -= 1
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    parts.append(text)
    return parts


def bodies(content: str, buttons: act.Buttons = (), reply_to: str | None = None) -> list[dict[str, Any]]:
    """Message bodies for ``content``: the first replies to ``reply_to``, the last has the buttons."""
    out: list[dict[str, Any]] = [{"content": part, "allowed_mentions": NO_PINGS} for part in split_content(content)]
    if reply_to is not None and reply_to.isdigit():
        out[0]["message_reference"] = {"message_id": reply_to, "fail_if_not_exists": False}
    rows = components(buttons)
    if rows:
        out[-1]["components"] = rows
    return out


def post(channel: str, body: dict[str, Any]) -> Request:
    return Request("POST", "/channels/{channel_id}/messages", {"channel_id": channel}, body)


def encode(action: act.Action, guild_of: dict[str, str], now: datetime) -> list[Request]:
    """The calls for a channel or guild action (not direct messages nor interaction answers)."""
    if isinstance(action, act.SendMessage):
        channel = snowflake(action.chat)
        return [post(channel, b) for b in bodies(action.content, action.buttons, action.reply_to)]
    if isinstance(action, act.DeleteMessage):
        channel, message = snowflake(action.chat), action.message_id
        if not message.isdigit():
            return []  # a slash command has no message to delete
        return [Request("DELETE", "/channels/{channel_id}/messages/{message_id}", _ids(channel, message))]
    if isinstance(action, act.React):
        emoji = f"_:{action.emoji.removeprefix('custom:')}" if action.emoji.startswith("custom:") else action.emoji
        path = "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me"
        return [Request("PUT", path, {**_ids(snowflake(action.chat), action.message_id), "emoji": emoji})]
    if isinstance(action, act.CreateInviteLink):
        body = {"max_age": 0, "max_uses": 0, "unique": True, "temporary": False}
        reason = f"Hearth: personal invite of {action.for_user}"
        return [Request("POST", "/channels/{channel_id}/invites", {"channel_id": snowflake(action.chat)}, body, reason)]
    if isinstance(action, act.MuteMember | act.UnmuteMember | act.KickMember):
        guild = _guild(action.chat, guild_of)
        ids = {"guild_id": guild, "user_id": snowflake(action.user)}
        path = "/guilds/{guild_id}/members/{user_id}"
        if isinstance(action, act.KickMember):
            return [Request("DELETE", path, ids, reason="Hearth: kick")]
        until = None
        if isinstance(action, act.MuteMember):
            span = timedelta(seconds=action.seconds) if action.seconds > 0 else MAX_TIMEOUT
            until = (now + min(span, MAX_TIMEOUT)).isoformat()
        return [Request("PATCH", path, ids, {"communication_disabled_until": until}, reason="Hearth: timeout")]
    if isinstance(action, act.SendPoll):
        raise PermanentError("native polls are not used on Discord; campaigns offer buttons instead")
    raise PermanentError(f"{action.kind} is not a channel action")


def _ids(channel: str, message: str) -> dict[str, str]:
    if not message.isdigit():
        raise PermanentError(f"{message!r} is not a Discord message id")
    return {"channel_id": channel, "message_id": message}


def _guild(chat: str, guild_of: dict[str, str]) -> str:
    guild = guild_of.get(snowflake(chat))
    if guild is None:
        raise PermanentError(f"{chat} is not a channel of a configured guild")
    return guild


# --- direct messages and interactions ---------------------------------------------------------


def open_dm(user: str) -> Request:
    return Request("POST", "/users/@me/channels", json={"recipient_id": snowflake(user)})


def callback(interaction: str, token: str, kind: int, data: dict[str, Any] | None = None) -> Request:
    """The initial response (5: deferred reply, 6: deferred update, 4: a reply)."""
    body: dict[str, Any] = {"type": kind}
    if data is not None:
        body["data"] = data
    path = "/interactions/{webhook_id}/{webhook_token}/callback"
    return Request("POST", path, {"webhook_id": interaction, "webhook_token": token}, body)


def edit_original(application: str, token: str, body: dict[str, Any]) -> Request:
    path = "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
    return Request("PATCH", path, {"webhook_id": application, "webhook_token": token}, body)


def delete_original(application: str, token: str) -> Request:
    path = "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
    return Request("DELETE", path, {"webhook_id": application, "webhook_token": token})


def followup(application: str, token: str, body: dict[str, Any], private: bool) -> Request:
    if private:
        body = {**body, "flags": EPHEMERAL}
    path = "/webhooks/{webhook_id}/{webhook_token}"
    return Request("POST", path, {"webhook_id": application, "webhook_token": token}, body)
