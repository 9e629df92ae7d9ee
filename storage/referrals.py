"""Referral bookkeeping: tracked joins, refusals with reasons, and the rewards each paid.

``referrals`` holds one row per campaign and invitee, ever (the unique key is the backstop
for "paid at most once"); status moves only forward through conditional updates
(pending → qualified → clawed_back, or pending → left / refused). ``referral_rewards`` has
one row per payable reward (``slot``), so a duplicate or replayed qualification pays nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from storage.models import Chat, Member, Membership
from storage.referral_models import Referral, ReferralRefusal, ReferralReward
from storage.sql import ignore_statement
from storage.tx import Conn

referrals_t = Referral.__table__
refusals_t = ReferralRefusal.__table__
rewards_t = ReferralReward.__table__
memberships_t = Membership.__table__
members_t = Member.__table__
chats_t = Chat.__table__


@dataclass(frozen=True, slots=True)
class ReferralRow:
    id: int
    campaign: str
    chat: str
    invitee: str
    inviter: str
    status: str
    reason: str | None
    joined_at: datetime
    qualified_at: datetime | None


def _row(r: Any) -> ReferralRow:
    return ReferralRow(
        r.id, r.campaign, r.chat_key, r.invitee, r.inviter, r.status, r.reason, r.joined_at, r.qualified_at
    )


async def get(conn: Conn, campaign: str, invitee: str) -> ReferralRow | None:
    c = referrals_t.c
    row = (await conn.execute(select(referrals_t).where(c.campaign == campaign, c.invitee == invitee))).first()
    return _row(row) if row else None


async def pending_of(conn: Conn, campaign: str, invitees: list[str]) -> dict[str, ReferralRow]:
    """The pending referrals among ``invitees`` (for a batch's messages)."""
    c = referrals_t.c
    q = select(referrals_t).where(c.campaign == campaign, c.status == "pending", c.invitee.in_(invitees))
    return {r.invitee: _row(r) for r in await conn.execute(q)}


async def create(
    conn: Conn,
    *,
    campaign: str,
    chat: str,
    invitee: str,
    inviter: str,
    code: str | None,
    confidence: str,
    at: datetime,
    event_ref: str,
) -> int | None:
    """Start tracking a join; None if this campaign already tracks the invitee."""
    row = dict(
        campaign=campaign,
        chat_key=chat,
        invitee=invitee,
        inviter=inviter,
        invite_code=code,
        confidence=confidence,
        status="pending",
        reason=None,
        joined_at=at,
        qualified_at=None,
        ended_at=None,
        join_ref=event_ref,
    )
    result = await conn.execute(ignore_statement(conn.dialect.name, referrals_t), row)
    if not result.rowcount:
        return None
    found = await get(conn, campaign, invitee)
    return found.id if found else None


async def move(conn: Conn, referral_id: int, *, frm: str, to: str, at: datetime, reason: str | None = None) -> bool:
    """Change status ``frm`` → ``to``; False if someone (a duplicate, a restart) got there first."""
    c = referrals_t.c
    values: dict[str, Any] = {"status": to}
    if to == "qualified":
        values["qualified_at"] = at
    else:
        values["ended_at"] = at
    if reason is not None:
        values["reason"] = reason
    result = await conn.execute(update(referrals_t).where(c.id == referral_id, c.status == frm).values(**values))
    return bool(result.rowcount)


async def refuse(
    conn: Conn,
    *,
    campaign: str,
    chat: str,
    invitee: str,
    inviter: str | None,
    reason: str,
    at: datetime,
    event_ref: str,
) -> None:
    """Append a refusal to the log (the reason names the rule)."""
    row = dict(
        campaign=campaign, chat_key=chat, invitee=invitee, inviter=inviter, reason=reason, at=at, event_ref=event_ref
    )
    await conn.execute(refusals_t.insert(), [row])


async def refusals(conn: Conn, campaign: str) -> list[tuple[str, str | None, str]]:
    """``(invitee, inviter, reason)`` in order."""
    c = refusals_t.c
    q = select(c.invitee, c.inviter, c.reason).where(c.campaign == campaign).order_by(c.id)
    return [(r.invitee, r.inviter, r.reason) for r in await conn.execute(q)]


async def count_by_inviter(conn: Conn, campaign: str, inviter: str, statuses: tuple[str, ...]) -> int:
    c = referrals_t.c
    q = select(func.count()).where(c.campaign == campaign, c.inviter == inviter, c.status.in_(statuses))
    return int((await conn.execute(q)).scalar_one())


# --- rewards ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RewardRow:
    id: int
    slot: str
    referral_id: int
    member: str
    role: str
    kind: str
    points: int
    pool: str | None
    coupon_id: int | None
    status: str


def _reward(r: Any) -> RewardRow:
    return RewardRow(r.id, r.slot, r.referral_id, r.member_key, r.role, r.kind, r.points, r.pool, r.coupon_id, r.status)


async def add_reward(conn: Conn, **row: Any) -> bool:
    """Record a reward in its slot; False when the slot was already paid (nothing written)."""
    result = await conn.execute(ignore_statement(conn.dialect.name, rewards_t), row)
    return bool(result.rowcount)


async def set_reward(conn: Conn, campaign: str, slot: str, **values: Any) -> None:
    c = rewards_t.c
    await conn.execute(update(rewards_t).where(c.campaign == campaign, c.slot == slot).values(**values))


async def rewards_of_referral(conn: Conn, referral_id: int) -> list[RewardRow]:
    c = rewards_t.c
    q = select(rewards_t).where(c.referral_id == referral_id, c.role != "tier").order_by(c.id)
    return [_reward(r) for r in await conn.execute(q)]


async def tier_rewards(conn: Conn, campaign: str, inviter: str) -> list[RewardRow]:
    c = rewards_t.c
    q = select(rewards_t).where(c.campaign == campaign, c.member_key == inviter, c.role == "tier").order_by(c.id)
    return [_reward(r) for r in await conn.execute(q)]


async def spent(conn: Conn, campaign: str) -> tuple[int, int]:
    """Points and coupons this campaign has paid out and not taken back."""
    c = rewards_t.c
    q = select(
        func.coalesce(func.sum(c.points).filter(c.kind == "points"), 0),
        func.count().filter(c.kind == "coupon"),
    ).where(c.campaign == campaign, c.status == "granted")
    points, coupons = (await conn.execute(q)).one()
    return int(points), int(coupons)


@dataclass(frozen=True, slots=True)
class InviterStats:
    joined: int
    qualified: int
    pending: int
    not_counted: int
    points: int
    coupons: int


async def inviter_stats(conn: Conn, campaign: str, inviter: str) -> InviterStats:
    c = referrals_t.c
    q = select(c.status, func.count()).where(c.campaign == campaign, c.inviter == inviter).group_by(c.status)
    by_status = {status: int(n) for status, n in await conn.execute(q)}
    r = refusals_t.c
    refused = await conn.execute(
        select(func.count()).where(r.campaign == campaign, r.inviter == inviter, r.reason != "left_before_qualifying")
    )
    w = rewards_t.c
    earned = await conn.execute(
        select(
            func.coalesce(func.sum(w.points).filter(w.kind == "points"), 0),
            func.count().filter(w.kind == "coupon"),
        ).where(w.campaign == campaign, w.member_key == inviter, w.status == "granted", w.role != "invitee")
    )
    points, coupons = earned.one()
    return InviterStats(
        joined=sum(by_status.values()),
        qualified=by_status.get("qualified", 0),
        pending=by_status.get("pending", 0),
        not_counted=int(refused.scalar_one()),
        points=int(points),
        coupons=int(coupons),
    )


# --- what the bookkeeping knows about the people involved ------------------------------------------


@dataclass(frozen=True, slots=True)
class Presence:
    active: bool
    messages: int


async def presence(conn: Conn, chat: str, member: str) -> Presence | None:
    c = memberships_t.c
    q = select(c.active, c.messages).where(c.chat_key == chat, c.member_key == member)
    row = (await conn.execute(q)).first()
    return Presence(bool(row.active), int(row.messages)) if row else None


async def is_bot(conn: Conn, member: str) -> bool:
    q = select(members_t.c.is_bot).where(members_t.c.key == member)
    return bool((await conn.execute(q)).scalar_one_or_none())


async def name_of(conn: Conn, member: str) -> str:
    """A member's display name (their id when unknown)."""
    q = select(members_t.c.name).where(members_t.c.key == member)
    return (await conn.execute(q)).scalar_one_or_none() or member.partition(":")[2] or member


async def chat_title(conn: Conn, chat: str) -> str:
    """A chat's title as last seen (its key when unknown)."""
    q = select(chats_t.c.title).where(chats_t.c.key == chat)
    return (await conn.execute(q)).scalar_one_or_none() or chat


async def campaign_summary(conn: Conn) -> dict[str, dict[str, int]]:
    """Per campaign: tracked referrals by status, and refused joins by reason (``refused:<reason>``)."""
    out: dict[str, dict[str, int]] = {}
    c = referrals_t.c
    for campaign, status, n in await conn.execute(
        select(c.campaign, c.status, func.count()).group_by(c.campaign, c.status).order_by(c.campaign, c.status)
    ):
        out.setdefault(campaign, {})[status] = int(n)
    r = refusals_t.c
    q = select(r.campaign, r.reason, func.count()).where(r.reason != "left_before_qualifying")
    for campaign, reason, n in await conn.execute(q.group_by(r.campaign, r.reason).order_by(r.campaign, r.reason)):
        out.setdefault(campaign, {})[f"refused:{reason}"] = int(n)
    return out
