"""What keyword rules remember: when each fired (cooldowns, daily caps) and the tags they set."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, insert, select

from storage.models import MemberTag, RuleHit
from storage.sql import insert_ignore
from storage.tx import Conn

hits_t = RuleHit.__table__
tags_t = MemberTag.__table__


async def last_hit(conn: Conn, rule: str, chat: str, member: str | None = None) -> datetime | None:
    """When ``rule`` last fired in ``chat`` (for ``member`` only, if given)."""
    c = hits_t.c
    q = select(func.max(c.at)).where(c.rule == rule, c.chat_key == chat)
    if member is not None:
        q = q.where(c.member_key == member)
    return (await conn.execute(q)).scalar_one_or_none()


async def hits_on(conn: Conn, rule: str, chat: str, day: date, member: str | None = None) -> int:
    """How often ``rule`` fired in ``chat`` on the group-local ``day`` (for ``member`` only, if given)."""
    c = hits_t.c
    q = select(func.count()).select_from(hits_t).where(c.rule == rule, c.chat_key == chat, c.day == day)
    if member is not None:
        q = q.where(c.member_key == member)
    return int((await conn.execute(q)).scalar_one())


async def add_hit(conn: Conn, rule: str, chat: str, member: str, day: date, at: datetime) -> None:
    await conn.execute(insert(hits_t), [dict(rule=rule, chat_key=chat, member_key=member, day=day, at=at)])


async def add_tag(conn: Conn, chat: str, member: str, tag: str, source: str, at: datetime) -> None:
    """Tag a member in a chat (tagging twice keeps the first time)."""
    await insert_ignore(conn, tags_t, [dict(chat_key=chat, member_key=member, tag=tag, source=source, at=at)])


async def tags_of(conn: Conn, chat: str, member: str) -> list[str]:
    c = tags_t.c
    q = select(c.tag).where(c.chat_key == chat, c.member_key == member).order_by(c.tag)
    return [r[0] for r in await conn.execute(q)]
