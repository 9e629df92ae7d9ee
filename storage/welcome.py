"""What welcome campaigns keep: newcomers and their verification, batch queues, onboarding steps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from storage.models import Member, Membership, OnboardingState, OutboxMessage, WelcomeMember, WelcomeQueue
from storage.sql import upsert
from storage.tx import Conn

newcomers_t = WelcomeMember.__table__
queue_t = WelcomeQueue.__table__
onboarding_t = OnboardingState.__table__
outbox_t = OutboxMessage.__table__


# --- newcomers --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Newcomer:
    member: str
    name: str
    status: str
    joined_at: datetime
    join_ref: str
    timer: str | None
    answer: str | None
    attempts: int


def _where(campaign: str, chat: str, member: str) -> Any:
    c = newcomers_t.c
    return (c.campaign == campaign) & (c.chat_key == chat) & (c.member_key == member)


async def newcomer(conn: Conn, campaign: str, chat: str, member: str) -> Newcomer | None:
    r = (await conn.execute(select(newcomers_t).where(_where(campaign, chat, member)))).first()
    if r is None:
        return None
    return Newcomer(r.member_key, r.name, r.status, r.joined_at, r.join_ref, r.timer, r.answer, r.attempts)


async def save_newcomer(
    conn: Conn,
    *,
    campaign: str,
    chat: str,
    member: str,
    name: str,
    status: str,
    joined_at: datetime,
    join_ref: str,
    timer: str | None,
) -> None:
    """Record a join (a re-join starts over: new status, no answer, no attempts)."""
    row = dict(
        campaign=campaign,
        chat_key=chat,
        member_key=member,
        name=name,
        status=status,
        joined_at=joined_at,
        join_ref=join_ref,
        timer=timer,
        answer=None,
        attempts=0,
    )
    fresh = {k: v for k, v in row.items() if k not in ("campaign", "chat_key", "member_key")}
    await upsert(conn, newcomers_t, [row], keys=["campaign", "chat_key", "member_key"], update=fresh)


async def update_newcomer(conn: Conn, campaign: str, chat: str, member: str, **values: Any) -> None:
    await conn.execute(update(newcomers_t).where(_where(campaign, chat, member)).values(**values))


async def set_answers(conn: Conn, campaign: str, chat: str, members: list[str], answer: str) -> None:
    """Give the still-pending ``members`` the challenge ``answer`` they must find."""
    c = newcomers_t.c
    q = update(newcomers_t).where(
        c.campaign == campaign, c.chat_key == chat, c.member_key.in_(members), c.status == "pending"
    )
    await conn.execute(q.values(answer=answer))


async def mute_confirmed(conn: Conn, join_ref: str, chat: str, member: str) -> bool:
    """True only if the platform accepted the mute the join caused (an outbox row marked sent)."""
    c = outbox_t.c
    q = select(c.payload).where(
        c.event_ref == join_ref, c.action == "mute_member", c.target == chat, c.status == "sent"
    )
    return any((payload or {}).get("user") == member for (payload,) in await conn.execute(q))


# --- batch queues -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Queued:
    member: str
    name: str
    inviter: str | None
    group_title: str


async def open_batch(conn: Conn, campaign: str, chat: str, stage: str) -> str | None:
    """The batch newcomers of ``chat`` are currently collected into, if one is open."""
    c = queue_t.c
    q = select(c.batch).where(c.campaign == campaign, c.chat_key == chat, c.stage == stage).limit(1)
    return (await conn.execute(q)).scalar_one_or_none()


async def enqueue(
    conn: Conn,
    *,
    campaign: str,
    chat: str,
    member: str,
    stage: str,
    batch: str,
    name: str,
    inviter: str | None,
    group_title: str,
    at: datetime,
) -> None:
    row = dict(
        campaign=campaign,
        chat_key=chat,
        member_key=member,
        stage=stage,
        batch=batch,
        name=name,
        inviter=inviter,
        group_title=group_title,
        at=at,
    )
    await conn.execute(queue_t.insert(), [row])


async def take_batch(conn: Conn, campaign: str, batch: str) -> list[Queued]:
    """Everyone queued in ``batch``, in join order, removed from the queue."""
    c = queue_t.c
    where = (c.campaign == campaign) & (c.batch == batch)
    rows = (await conn.execute(select(queue_t).where(where).order_by(c.id))).all()
    await conn.execute(delete(queue_t).where(where))
    seen: dict[str, Queued] = {}
    for r in rows:
        seen.setdefault(r.member_key, Queued(r.member_key, r.name, r.inviter, r.group_title))
    return list(seen.values())


async def dequeue(conn: Conn, campaign: str, chat: str, member: str) -> None:
    c = queue_t.c
    await conn.execute(delete(queue_t).where(c.campaign == campaign, c.chat_key == chat, c.member_key == member))


# --- the group --------------------------------------------------------------------------------


async def member_count(conn: Conn, chat: str) -> int:
    """Members of ``chat`` Hearth has seen and who have not left."""
    c = Membership.__table__.c
    q = select(func.count()).select_from(Membership.__table__).where(c.chat_key == chat, c.active.is_(True))
    return int((await conn.execute(q)).scalar_one())


async def member_name(conn: Conn, member: str) -> str | None:
    c = Member.__table__.c
    return (await conn.execute(select(c.name).where(c.key == member))).scalar_one_or_none()


async def is_member(conn: Conn, chat: str, member: str) -> bool:
    c = Membership.__table__.c
    q = select(c.active).where(c.chat_key == chat, c.member_key == member)
    return bool((await conn.execute(q)).scalar_one_or_none())


# --- onboarding -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Onboarding:
    chat: str
    member: str
    active: bool
    step: int
    generation: int


async def onboarding(conn: Conn, campaign: str, chat: str, member: str) -> Onboarding | None:
    c = onboarding_t.c
    q = select(onboarding_t).where(c.campaign == campaign, c.chat_key == chat, c.member_key == member)
    r = (await conn.execute(q)).first()
    return Onboarding(r.chat_key, r.member_key, bool(r.active), r.step, r.generation) if r else None


async def onboardings_of(conn: Conn, campaign: str, member: str) -> list[Onboarding]:
    c = onboarding_t.c
    q = select(onboarding_t).where(c.campaign == campaign, c.member_key == member).order_by(c.chat_key)
    return [Onboarding(r.chat_key, r.member_key, bool(r.active), r.step, r.generation) for r in await conn.execute(q)]


async def save_onboarding(
    conn: Conn,
    campaign: str,
    chat: str,
    member: str,
    *,
    active: bool,
    step: int,
    generation: int,
    at: datetime,
) -> None:
    row = dict(
        campaign=campaign,
        chat_key=chat,
        member_key=member,
        active=active,
        step=step,
        generation=generation,
        updated_at=at,
    )
    fresh = {"active": active, "step": step, "generation": generation, "updated_at": at}
    await upsert(conn, onboarding_t, [row], keys=["campaign", "chat_key", "member_key"], update=fresh)
