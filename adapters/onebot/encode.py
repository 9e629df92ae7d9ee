"""Hearth actions → OneBot v11 API calls ``(action, params)``, as pure functions.

Messages are sent as segment arrays (every implementation accepts them; no escaping to get
wrong). There are no buttons on OneBot: link buttons become text lines, and callback buttons
(a campaign should not send them here: the adapter does not declare ``Feature.BUTTONS``)
become numbered lines, so a member can still answer with the number. Actions the platform
has no call for raise :class:`~adapters.base.PermanentError`.
"""

from __future__ import annotations

from typing import Any

from adapters.base import PermanentError
from adapters.onebot import cqcode
from adapters.onebot.decode import PRIVATE
from bot import actions as act
from bot.events import split_key

MAX_BAN = 30 * 24 * 3600  # QQ mutes for at most 30 days
Call = tuple[str, dict[str, Any]]


def wire_id(value: str) -> int | str:
    """An id as the bridge expects it: a number for QQ, text as is (WeChat bridges)."""
    digits = value[1:] if value.startswith("-") else value
    return int(value) if digits.isdigit() and len(digits) < 20 else value


def text_of(content: str, buttons: act.Buttons) -> str:
    """The message text with its buttons written out."""
    lines: list[str] = []
    number = 0
    for row in buttons:
        for button in row:
            if button.url:
                lines.append(f"{button.text}: {button.url}")
            else:
                number += 1
                lines.append(f"{number}) {button.text}")
    return "\n".join([content, *lines]) if lines else content


def message(content: str, buttons: act.Buttons = (), reply_to: str | None = None) -> list[cqcode.Segment]:
    segments: list[cqcode.Segment] = []
    if reply_to:
        segments.append({"type": "reply", "data": {"id": reply_to}})
    segments.append(cqcode.text(text_of(content, buttons)))
    return segments


def target(chat_key: str) -> tuple[str, str]:
    """``("group", group_id)`` or ``("private", user_id)`` for a chat key."""
    ident = split_key(chat_key)[1]
    if ident.startswith(PRIVATE):
        return "private", ident[len(PRIVATE) :]
    return "group", ident


def member(user_key: str) -> int | str:
    return wire_id(split_key(user_key)[1])


def encode(action: act.Action) -> Call | None:
    """The API call for ``action``; None when nothing needs doing (a button answer)."""
    if isinstance(action, act.SendMessage):
        kind, ident = target(action.chat)
        body = message(action.content, action.buttons, action.reply_to)
        if kind == "private":
            return "send_private_msg", {"user_id": wire_id(ident), "message": body}
        return "send_group_msg", {"group_id": wire_id(ident), "message": body}
    if isinstance(action, act.SendDirect):
        return "send_private_msg", {"user_id": member(action.user), "message": message(action.content, action.buttons)}
    if isinstance(action, act.DeleteMessage):
        return "delete_msg", {"message_id": wire_id(action.message_id)}
    if isinstance(action, act.MuteMember | act.UnmuteMember):
        seconds = action.seconds if isinstance(action, act.MuteMember) else 0
        if isinstance(action, act.MuteMember) and not 0 < seconds <= MAX_BAN:
            seconds = MAX_BAN  # 0 means "until lifted"; QQ's longest is 30 days
        return "set_group_ban", {"group_id": _group(action.chat), "user_id": member(action.user), "duration": seconds}
    if isinstance(action, act.KickMember):
        params = {"group_id": _group(action.chat), "user_id": member(action.user), "reject_add_request": False}
        return "set_group_kick", params
    if isinstance(action, act.AnswerButton):
        return None
    raise PermanentError(f"OneBot v11 has no {action.kind.replace('_', ' ')}")


def _group(chat_key: str) -> int | str:
    kind, ident = target(chat_key)
    if kind != "group":
        raise PermanentError("that is a private chat, not a group")
    return wire_id(ident)
