"""OneBot v11 event payloads → Hearth events, as pure functions (tested on recorded JSON).

* group and private ``message`` → ``message.created`` (text, at, face, image segments become
  elements; a ``reply`` segment becomes ``reply_to``; a leading ``@bot`` is dropped, as QQ
  clients add it when replying to the bot). The sender's ``role`` owner/admin → ``admin``.
* ``notice.group_increase`` → ``member.joined``; with ``sub_type = "invite"`` and a known
  ``operator_id``, the operator is the inviter. ``group_decrease`` → ``member.left``.
* ``meta_event`` (heartbeat, lifecycle), the bot's own messages, anonymous messages and
  everything else → ``None``: kept for health by the adapter, never shown to campaigns.

Private chats are keyed ``<platform>:private:<user_id>`` so they never collide with a group
of the same number. Ids stay strings (WeChat bridges may send text ids). An event's ``at``
is when Hearth received it: OneBot delivers live (nothing is queued or sent twice), the
payload's ``time`` has whole seconds only and comes from the bridge's clock, and campaigns
compare ``at`` with times of Hearth's own clock (a quiz question's start). The payload's
time goes into the event id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.onebot import cqcode
from bot.events import Chat, Element, Event, EventKind, Image, Invite, Mention, Text, User, key

PRIVATE = "private:"
FACE = "[表情]"  # how QQ itself shows a built-in face in plain text
ADMIN_ROLES = ("owner", "admin")


def ident(value: Any) -> str | None:
    """An id as text; None for a missing or zero id (OneBot's "unknown")."""
    if value is None or isinstance(value, bool) or value in (0, "0", ""):
        return None
    return str(value)


def when(payload: dict[str, Any], now: datetime) -> datetime:
    """The payload's time: unix seconds (milliseconds from some WeChat bridges), else ``now``."""
    t = payload.get("time")
    if isinstance(t, int | float) and not isinstance(t, bool) and t > 0:
        seconds = t / 1000 if t > 100_000_000_000 else t
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return now


def elements(segments: list[cqcode.Segment], self_id: str) -> tuple[tuple[Element, ...], str | None]:
    """Message elements and the quoted message id."""
    out: list[Element] = []
    reply_to: str | None = None
    for seg in segments:
        kind, data = seg["type"], seg["data"]
        if kind == "text":
            out.append(Text(data.get("text", "")))
        elif kind == "at":
            who = data.get("qq", "")
            if who == "all":
                out.append(Text("@全体成员"))
            elif who:
                out.append(Mention(who, data.get("name", "")))
        elif kind == "face":
            out.append(Text(FACE))
        elif kind == "image":
            url = data.get("url") or data.get("file")
            if url:
                out.append(Image(url))
        elif kind == "reply" and data.get("id"):
            reply_to = data["id"]
    if out and isinstance(out[0], Mention) and out[0].user_id == self_id:
        out.pop(0)  # "@bot 签到" means "签到"
        if out and isinstance(out[0], Text):
            rest = out[0].text.lstrip()
            out[0:1] = [Text(rest)] if rest else []
    merged: list[Element] = []
    for el in out:
        if isinstance(el, Text) and merged and isinstance(merged[-1], Text):
            merged[-1] = Text(merged[-1].text + el.text)
        else:
            merged.append(el)
    return tuple(merged), reply_to


def decode(payload: dict[str, Any], platform: str, now: datetime) -> Event | None:
    """The Hearth event a OneBot payload received at ``now`` means, or None (meta events, own
    messages, the rest)."""
    post = payload.get("post_type")
    self_id = ident(payload.get("self_id"))
    if self_id is None:
        return None
    if post == "message":
        return _message(payload, platform, self_id, now)
    if post == "notice":
        return _notice(payload, platform, self_id, now)
    return None


def _message(p: dict[str, Any], platform: str, self_id: str, now: datetime) -> Event | None:
    kind, sub = p.get("message_type"), p.get("sub_type")
    user_id, message_id = ident(p.get("user_id")), ident(p.get("message_id"))
    if user_id is None or user_id == self_id or sub in ("anonymous", "notice"):
        return None
    sender = p.get("sender") if isinstance(p.get("sender"), dict) else {}
    name = str(sender.get("card") or sender.get("nickname") or "")
    if kind == "group":
        group_id = ident(p.get("group_id"))
        if group_id is None:
            return None
        chat = Chat(platform, group_id, str(p.get("group_name") or ""), "group")
    elif kind == "private":
        chat = Chat(platform, PRIVATE + user_id, name, "private")
    else:
        return None
    # the id: chat, message id and time; a bridge without message ids (WeChat bridges send 0)
    # cannot have duplicates detected, so its messages are told apart by sender and receipt
    if message_id is not None:
        event_id = f"m:{chat.id}:{message_id}:{int(when(p, now).timestamp())}"
    else:
        event_id = f"m:{chat.id}:{user_id}:{now.timestamp():.6f}"
    message, reply_to = elements(cqcode.normalize(p.get("message", p.get("raw_message", ""))), self_id)
    return Event(
        id=event_id,
        kind=EventKind.MESSAGE_CREATED,
        platform=platform,
        self_id=self_id,
        at=now,
        chat=chat,
        user=User(platform, user_id, name),
        message=message,
        message_id=message_id,
        reply_to=reply_to,
        admin=kind == "group" and sender.get("role") in ADMIN_ROLES,
        raw=p,
    )


def _notice(p: dict[str, Any], platform: str, self_id: str, now: datetime) -> Event | None:
    notice = p.get("notice_type")
    if notice not in ("group_increase", "group_decrease"):
        return None
    group_id, user_id = ident(p.get("group_id")), ident(p.get("user_id"))
    if group_id is None or user_id is None or user_id == self_id:
        return None  # the bot itself joined or was removed: not a member event
    stamp = int(when(p, now).timestamp())
    sub = str(p.get("sub_type") or "")
    invite: Invite | None = None
    if notice == "group_increase":
        operator = ident(p.get("operator_id"))
        if sub == "invite" and operator is not None and operator != user_id:
            invite = Invite(creator=key(platform, operator), via="invited_by", confidence="exact")
        else:
            invite = Invite(via="approved" if sub == "approve" else sub or "unknown", confidence="unknown")
    word = "join" if notice == "group_increase" else "left"
    return Event(
        id=f"{word}:{group_id}:{user_id}:{stamp}",
        kind=EventKind.MEMBER_JOINED if notice == "group_increase" else EventKind.MEMBER_LEFT,
        platform=platform,
        self_id=self_id,
        at=now,
        chat=Chat(platform, group_id, "", "group"),
        user=User(platform, user_id),
        invite=invite,
        raw=p,
    )


def is_meta(payload: dict[str, Any]) -> bool:
    return payload.get("post_type") == "meta_event"


def is_response(payload: dict[str, Any]) -> bool:
    """An API answer: a frame without ``post_type``."""
    return "post_type" not in payload and ("status" in payload or "retcode" in payload)
