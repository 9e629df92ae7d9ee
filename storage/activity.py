"""Counts over a time window for one chat: the numbers behind ``/stats``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, distinct, func, select

from storage.models import Checkin, LedgerEntry, Membership, WelcomeMember
from storage.tx import Conn

ms_t = Membership.__table__
checkins_t = Checkin.__table__
ledger_t = LedgerEntry.__table__
welcome_t = WelcomeMember.__table__


@dataclass(frozen=True, slots=True)
class CampaignResult:
    campaign: str
    entries: int
    points: int


@dataclass(frozen=True, slots=True)
class ChatActivity:
    members: int
    joins: int
    leaves: int
    active: int
    checkins: int
    checkin_members: int
    campaigns: list[CampaignResult] = field(default_factory=list)
    verification: dict[str, int] = field(default_factory=dict)


async def _count(conn: Conn, *where: object) -> int:
    q = select(func.count()).select_from(ms_t).where(*where)  # type: ignore[arg-type]
    return int((await conn.execute(q)).scalar_one())


async def chat_activity(conn: Conn, chat: str, since: datetime, since_day: date) -> ChatActivity:
    """Members now, and what happened in ``chat`` from ``since`` (``since_day`` for check-in days)."""
    m = ms_t.c
    members = await _count(conn, m.chat_key == chat, m.active.is_(True))
    joins = await _count(conn, m.chat_key == chat, m.joined_at >= since)
    leaves = await _count(conn, m.chat_key == chat, m.active.is_(False), m.left_at >= since)
    active = await _count(conn, m.chat_key == chat, m.last_seen_at >= since, m.messages > 0)
    c = checkins_t.c
    q = select(func.count(), func.count(distinct(c.member_key))).where(and_(c.chat_key == chat, c.day >= since_day))
    checkins, checkin_members = (await conn.execute(q)).one()
    lc = ledger_t.c
    q = (
        select(lc.campaign, func.count(), func.coalesce(func.sum(lc.points), 0))
        .where(lc.chat_key == chat, lc.at >= since)
        .group_by(lc.campaign)
        .order_by(lc.campaign)
    )
    campaigns = [CampaignResult(r[0], int(r[1]), int(r[2])) for r in await conn.execute(q)]
    w = welcome_t.c
    q = select(w.status, func.count()).where(w.chat_key == chat, w.joined_at >= since).group_by(w.status)
    verification = {r[0]: int(r[1]) for r in await conn.execute(q)}
    return ChatActivity(
        members=members,
        joins=joins,
        leaves=leaves,
        active=active,
        checkins=int(checkins),
        checkin_members=int(checkin_members),
        campaigns=campaigns,
        verification=verification,
    )
