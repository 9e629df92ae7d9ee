"""Check-in rows around one day: what ``/streak repair`` reads and re-chains."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update

from storage.models import Checkin
from storage.tx import Conn

checkins_t = Checkin.__table__


@dataclass(frozen=True, slots=True)
class DayRow:
    id: int
    day: date
    streak: int


def _of(campaign: str, chat: str, member: str) -> list:
    c = checkins_t.c
    return [c.campaign == campaign, c.chat_key == chat, c.member_key == member]


async def before(conn: Conn, campaign: str, chat: str, member: str, day: date) -> DayRow | None:
    """The member's latest check-in strictly before ``day``."""
    c = checkins_t.c
    q = select(c.id, c.day, c.streak).where(*_of(campaign, chat, member), c.day < day).order_by(c.day.desc()).limit(1)
    r = (await conn.execute(q)).first()
    return DayRow(r.id, r.day, r.streak) if r else None


async def from_day(conn: Conn, campaign: str, chat: str, member: str, day: date) -> list[DayRow]:
    """The member's check-ins on ``day`` and after, oldest first."""
    c = checkins_t.c
    q = select(c.id, c.day, c.streak).where(*_of(campaign, chat, member), c.day >= day).order_by(c.day)
    return [DayRow(r.id, r.day, r.streak) for r in await conn.execute(q)]


async def set_streak(conn: Conn, ident: int, streak: int) -> None:
    await conn.execute(update(checkins_t).where(checkins_t.c.id == ident).values(streak=streak))
