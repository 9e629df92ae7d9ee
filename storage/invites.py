"""Members' personal invite links: asked for by a campaign, filled in when the platform answers.

A campaign records the request (``requested``) in the event's transaction and emits a
``CreateInviteLink`` action; the sender stores the link the platform returned (``record``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage.referral_models import InviteLink
from storage.sql import upsert
from storage.tx import Conn

links_t = InviteLink.__table__


@dataclass(frozen=True, slots=True)
class MemberLink:
    link: str | None
    requested_at: datetime


async def link_of(conn: Conn, chat: str, member: str) -> MemberLink | None:
    c = links_t.c
    row = (await conn.execute(select(c.link, c.requested_at).where(c.chat_key == chat, c.member_key == member))).first()
    return MemberLink(row.link, row.requested_at) if row else None


async def requested(conn: Conn, chat: str, member: str, now: datetime) -> None:
    """Note that a link was asked for now (a later answer fills it in)."""
    row = dict(chat_key=chat, member_key=member, link=None, requested_at=now, created_at=None)
    await upsert(conn, links_t, [row], keys=["chat_key", "member_key"], update={"requested_at": now})


async def record(conn: Conn, chat: str, member: str, link: str, now: datetime) -> None:
    """Store the link the platform made for ``member`` (replacing an older one)."""
    row = dict(chat_key=chat, member_key=member, link=link, requested_at=now, created_at=now)
    await upsert(conn, links_t, [row], keys=["chat_key", "member_key"], update={"link": link, "created_at": now})
