"""The durable outgoing queue: rows written with the event's transaction, read by the sender."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import actions as act
from bot.events import Event, split_key
from storage.models import OutboxMessage

outbox_t = OutboxMessage.__table__
MAX_ATTEMPTS = 8


def platform_of(action: act.Action, fallback: str) -> str:
    target = act.target_of(action)
    return fallback if target == "callback" else split_key(target)[0]


def outbox_row(
    action: act.Action,
    event: Event | None,
    now: datetime,
    not_before: datetime | None = None,
    platform: str | None = None,
) -> dict[str, Any]:
    """The outbox row for ``action``, caused by ``event``."""
    fallback = platform or (event.platform if event else "")
    return dict(
        platform=platform_of(action, fallback),
        target=act.target_of(action) if act.target_of(action) != "callback" else f"{fallback}:callback",
        action=action.kind,
        payload=act.dump(action),
        status="pending",
        attempts=0,
        not_before=not_before or now,
        created_at=now,
        event_ref=f"{event.platform}:{event.self_id}:{event.id}" if event else None,
    )


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    platform: str
    target: str
    action: act.Action
    attempts: int


async def due(conn: AsyncConnection, platforms: list[str], now: datetime, limit: int = 500) -> list[Pending]:
    """Pending rows that may be sent now, oldest first.

    A row waiting for a retry holds back the later rows to its target, so messages to one
    chat never overtake each other (a delayed ``DeleteMessage`` that was never tried holds
    nothing back).
    """
    c = outbox_t.c
    w = outbox_t.alias("waiting")
    waiting = (
        select(w.c.id)
        .where(
            w.c.status == "pending",
            w.c.platform == c.platform,
            w.c.target == c.target,
            w.c.attempts > 0,
            w.c.not_before > now,
            w.c.id < c.id,
        )
        .exists()
    )
    q = (
        select(c.id, c.platform, c.target, c.payload, c.attempts)
        .where(and_(c.status == "pending", c.platform.in_(platforms), c.not_before <= now), ~waiting)
        .order_by(c.id)
        .limit(limit)
    )
    return [Pending(r.id, r.platform, r.target, act.load(r.payload), r.attempts) for r in await conn.execute(q)]


async def next_due(conn: AsyncConnection, platforms: list[str], after: datetime | None = None) -> datetime | None:
    """When the next pending row comes due (only times later than ``after``, when given)."""
    c = outbox_t.c
    q = select(c.not_before).where(c.status == "pending", c.platform.in_(platforms))
    if after is not None:
        q = q.where(c.not_before > after)
    return (await conn.execute(q.order_by(c.not_before).limit(1))).scalar_one_or_none()


async def mark_sent(conn: AsyncConnection, ids: list[int], now: datetime, message_id: str | None) -> None:
    c = outbox_t.c
    await conn.execute(
        update(outbox_t)
        .where(c.id.in_(ids))
        .values(status="sent", sent_at=now, platform_message_id=message_id, attempts=c.attempts + 1)
    )


async def mark_retry(conn: AsyncConnection, row: Pending, now: datetime, delay: float, error: str) -> None:
    c = outbox_t.c
    attempts = row.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "error": error[:500]}
    if attempts >= MAX_ATTEMPTS:
        values["status"] = "failed"
    else:
        values["not_before"] = now + timedelta(seconds=delay)
    await conn.execute(update(outbox_t).where(c.id == row.id).values(**values))


async def mark_failed(conn: AsyncConnection, ids: list[int], error: str) -> None:
    c = outbox_t.c
    await conn.execute(
        update(outbox_t).where(c.id.in_(ids)).values(status="failed", error=error[:500], attempts=c.attempts + 1)
    )
