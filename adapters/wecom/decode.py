"""Pure functions from WeCom payloads to Hearth's model (tested on recorded fixtures).

* :func:`encrypted_of`: the ``Encrypt`` text of a callback body, found without parsing XML
  (nothing unauthenticated is parsed; the signature is checked on this text first).
* :func:`chat_change`: a decrypted ``change_external_chat`` callback, both ``MemChangeList``
  formats (``<Item>`` children, or one comma-separated text).
* :func:`app_text`: a decrypted text message a corp member sent to the app (staff commands).
* :func:`group_detail`: a ``groupchat/get`` answer as a roster.
* :func:`diff`, :func:`join_event`, :func:`leave_event`: who joined and left between two
  rosters, as ``member.joined`` / ``member.left``. Event ids name the membership
  (``join:<chat>:<user>:<join_time>``), so a join seen by a callback and again by a roster
  sync is one event.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.events import Chat, Event, EventKind, Invite, User

PLATFORM = "wecom"
_ENCRYPT = re.compile(rb"<Encrypt>\s*(?:<!\[CDATA\[([A-Za-z0-9+/=]*)\]\]>|([A-Za-z0-9+/=]*))\s*</Encrypt>")
MAX_CIPHERTEXT = 1024 * 1024
SCENES = {1: "invited", 2: "link", 3: "qr"}  # groupchat/get member_list[].join_scene


@dataclass(frozen=True, slots=True)
class ChatChange:
    chat_id: str
    change: str  # create, update, dismiss
    detail: str  # add_member, del_member, change_owner, change_name, change_notice ("" otherwise)
    members: tuple[str, ...]
    at: datetime


@dataclass(frozen=True, slots=True)
class Member:
    userid: str
    type: int  # 1 staff (corp member), 2 customer
    join_time: int
    join_scene: int = 0
    state: str | None = None
    unionid: str | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class GroupDetail:
    chat_id: str
    name: str
    owner: str
    members: tuple[Member, ...]


def encrypted_of(body: bytes) -> str | None:
    """The base64 ``Encrypt`` value of a callback body, or None."""
    m = _ENCRYPT.search(body[: MAX_CIPHERTEXT + 4096])
    if m is None:
        return None
    return (m.group(1) or m.group(2) or b"").decode("ascii") or None


def _text(root: ET.Element, tag: str) -> str:
    el = root.find(tag)
    return (el.text or "").strip() if el is not None else ""


def chat_change(xml: bytes) -> ChatChange | None:
    """A ``change_external_chat`` event, or None for any other (or unreadable) callback."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None
    if _text(root, "Event") != "change_external_chat" or not _text(root, "ChatId"):
        return None
    members: list[str] = []
    for el in root.findall("MemChangeList"):
        items = [(i.text or "").strip() for i in el.findall("Item")]
        members += items if items else [p.strip() for p in (el.text or "").split(",")]
    try:
        at = datetime.fromtimestamp(int(_text(root, "CreateTime") or 0), UTC)
    except (ValueError, OverflowError, OSError):
        at = datetime.fromtimestamp(0, UTC)
    return ChatChange(
        chat_id=_text(root, "ChatId"),
        change=_text(root, "ChangeType"),
        detail=_text(root, "UpdateDetail"),
        members=tuple(dict.fromkeys(m for m in members if m)),
        at=at,
    )


@dataclass(frozen=True, slots=True)
class AppText:
    msg_id: str
    userid: str  # FromUserName: the corp member's userid
    agent_id: int
    content: str


def app_text(xml: bytes) -> AppText | None:
    """A text message to the app (``MsgType`` text, with ``MsgId``), or None for anything else."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None
    if _text(root, "MsgType") != "text" or not _text(root, "FromUserName") or not _text(root, "MsgId"):
        return None
    el = root.find("Content")
    content = (el.text or "") if el is not None else ""
    return AppText(
        msg_id=_text(root, "MsgId")[:64],
        userid=_text(root, "FromUserName")[:100],
        agent_id=_int(_text(root, "AgentID")),
        content=content[:2048],
    )


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


def group_detail(data: dict) -> GroupDetail:
    """``groupchat/get``'s ``group_chat`` object as a roster (unknown fields ignored)."""
    members = []
    for m in data.get("member_list") or []:
        if not isinstance(m, dict) or not m.get("userid"):
            continue
        members.append(
            Member(
                userid=str(m["userid"]),
                type=_int(m.get("type")) or 2,
                join_time=_int(m.get("join_time")),
                join_scene=_int(m.get("join_scene")),
                state=str(m["state"]) if m.get("state") else None,
                unionid=str(m["unionid"]) if m.get("unionid") else None,
                name=str(m.get("group_nickname") or m.get("name") or "")[:300],
            )
        )
    return GroupDetail(
        chat_id=str(data.get("chat_id", "")),
        name=str(data.get("name") or "")[:300],
        owner=str(data.get("owner") or ""),
        members=tuple(members),
    )


def diff(stored: dict[str, Member], fresh: GroupDetail) -> tuple[list[Member], list[Member]]:
    """(joined, left) between the stored roster and a fresh one. A member whose ``join_time``
    changed left and came back in between: both are reported."""
    now = {m.userid: m for m in fresh.members}
    joined = [m for m in fresh.members if m.userid not in stored or stored[m.userid].join_time != m.join_time]
    left = [m for uid, m in stored.items() if uid not in now or now[uid].join_time != m.join_time]
    return joined, left


def _user(member: Member) -> User:
    return User(PLATFORM, member.userid, member.name)


def join_event(corp_id: str, group: GroupDetail, member: Member, at: datetime, invite: Invite, admin: bool) -> Event:
    return Event(
        id=f"join:{group.chat_id}:{member.userid}:{member.join_time}",
        kind=EventKind.MEMBER_JOINED,
        platform=PLATFORM,
        self_id=corp_id,
        at=at,
        chat=Chat(PLATFORM, group.chat_id, group.name),
        user=_user(member),
        invite=invite,
        admin=admin,
        raw={"join_scene": member.join_scene, "state": member.state},
    )


def leave_event(corp_id: str, chat_id: str, title: str, member: Member, at: datetime, admin: bool) -> Event:
    return Event(
        id=f"leave:{chat_id}:{member.userid}:{member.join_time}",
        kind=EventKind.MEMBER_LEFT,
        platform=PLATFORM,
        self_id=corp_id,
        at=at,
        chat=Chat(PLATFORM, chat_id, title),
        user=_user(member),
        admin=admin,
    )


def unknown_invite(member: Member) -> Invite:
    """A join Hearth did not make the QR code for: WeCom names no referrer."""
    return Invite(via=SCENES.get(member.join_scene, "unknown"), confidence="unknown")
