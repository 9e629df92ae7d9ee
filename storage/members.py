"""Finding members of a chat by what an admin typed: ``@name`` or the platform's user id."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from storage.models import Member, Membership
from storage.tx import Conn

members_t = Member.__table__
memberships_t = Membership.__table__


async def find(conn: Conn, chat: str, platform: str, text: str, limit: int = 5) -> list[tuple[str, str]]:
    """(key, name) of the chat's members whose name (case-insensitive) or user id is ``text``."""
    m, ms = members_t.c, memberships_t.c
    q = (
        select(m.key, m.name)
        .join(memberships_t, (ms.member_key == m.key) & (ms.chat_key == chat))
        .where(or_(m.key == f"{platform}:{text}", m.name == text, func.lower(m.name) == text.lower()))
        .order_by(m.key)
        .limit(limit)
    )
    return [(r.key, r.name) for r in await conn.execute(q)]


async def name_of(conn: Conn, key: str) -> str | None:
    return (await conn.execute(select(members_t.c.name).where(members_t.c.key == key))).scalar_one_or_none()
