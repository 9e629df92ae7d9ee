"""Queries on members, points and check-ins that campaigns and commands share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Checkin, LedgerEntry, Member

ledger_t = LedgerEntry.__table__
checkins_t = Checkin.__table__
members_t = Member.__table__


async def add_points(
    conn: AsyncConnection,
    *,
    member: str,
    chat: str | None,
    campaign: str,
    points: int,
    reason: str,
    event_ref: str,
    at: datetime,
) -> None:
    """Append one ledger row (never an edit)."""
    await conn.execute(
        insert(ledger_t),
        [
            dict(
                member_key=member,
                chat_key=chat,
                campaign=campaign,
                points=points,
                reason=reason,
                event_ref=event_ref,
                at=at,
            )
        ],
    )


async def points_of(conn: AsyncConnection, member: str, chat: str | None) -> int:
    q = select(func.coalesce(func.sum(ledger_t.c.points), 0)).where(ledger_t.c.member_key == member)
    if chat is not None:
        q = q.where(ledger_t.c.chat_key == chat)
    return int((await conn.execute(q)).scalar_one())


@dataclass(frozen=True, slots=True)
class Standing:
    member: str
    name: str
    points: int


async def leaderboard(conn: AsyncConnection, chat: str, limit: int = 10) -> list[Standing]:
    total = func.sum(ledger_t.c.points).label("total")
    q = (
        select(ledger_t.c.member_key, total, members_t.c.name)
        .join(members_t, members_t.c.key == ledger_t.c.member_key, isouter=True)
        .where(ledger_t.c.chat_key == chat)
        .group_by(ledger_t.c.member_key, members_t.c.name)
        .having(total > 0)
        .order_by(total.desc(), ledger_t.c.member_key)
        .limit(limit)
    )
    rows = (await conn.execute(q)).all()
    return [Standing(r.member_key, r.name or r.member_key.split(":", 1)[1], int(r.total)) for r in rows]


@dataclass(frozen=True, slots=True)
class LastCheckin:
    day: date
    streak: int


async def last_checkin(conn: AsyncConnection, campaign: str, chat: str, member: str) -> LastCheckin | None:
    c = checkins_t.c
    q = (
        select(c.day, c.streak)
        .where(c.campaign == campaign, c.chat_key == chat, c.member_key == member)
        .order_by(c.day.desc())
        .limit(1)
    )
    row = (await conn.execute(q)).first()
    return LastCheckin(row.day, row.streak) if row else None


async def best_streak(conn: AsyncConnection, campaign: str, chat: str, member: str) -> int:
    c = checkins_t.c
    q = select(func.coalesce(func.max(c.streak), 0)).where(
        c.campaign == campaign, c.chat_key == chat, c.member_key == member
    )
    return int((await conn.execute(q)).scalar_one())


async def add_checkin(
    conn: AsyncConnection,
    *,
    campaign: str,
    chat: str,
    member: str,
    day: date,
    at: datetime,
    streak: int,
    event_ref: str,
) -> None:
    await conn.execute(
        insert(checkins_t),
        [dict(campaign=campaign, chat_key=chat, member_key=member, day=day, at=at, streak=streak, event_ref=event_ref)],
    )
