"""One-off timers campaigns set; the scheduler turns due ones into ``timer.fired`` events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Timer
from storage.sql import insert_ignore

timers_t = Timer.__table__


@dataclass(frozen=True, slots=True)
class DueTimer:
    key: str
    campaign: str
    chat: str | None
    member: str | None
    due_at: datetime
    payload: dict[str, Any]


async def set_timer(
    conn: AsyncConnection,
    *,
    key: str,
    campaign: str,
    due_at: datetime,
    chat: str | None = None,
    member: str | None = None,
    payload: dict[str, Any] | None = None,
    event_ref: str | None = None,
) -> None:
    """Create the timer ``key`` unless it exists already (setting it twice is a no-op)."""
    row = dict(
        key=key,
        campaign=campaign,
        chat_key=chat,
        member_key=member,
        due_at=due_at,
        payload=payload or {},
        status="pending",
        event_ref=event_ref,
    )
    await insert_ignore(conn, timers_t, [row])


async def cancel_timer(conn: AsyncConnection, key: str) -> bool:
    """Cancel a pending timer; True if there was one."""
    c = timers_t.c
    result = await conn.execute(update(timers_t).where(c.key == key, c.status == "pending").values(status="cancelled"))
    return bool(result.rowcount)


async def due_timers(conn: AsyncConnection, now: datetime, limit: int = 500) -> list[DueTimer]:
    c = timers_t.c
    q = select(timers_t).where(c.status == "pending", c.due_at <= now).order_by(c.due_at, c.id).limit(limit)
    return [
        DueTimer(r.key, r.campaign, r.chat_key, r.member_key, r.due_at, r.payload or {}) for r in await conn.execute(q)
    ]


async def next_timer(conn: AsyncConnection) -> datetime | None:
    c = timers_t.c
    q = select(c.due_at).where(c.status == "pending").order_by(c.due_at).limit(1)
    return (await conn.execute(q)).scalar_one_or_none()


async def mark_fired(conn: AsyncConnection, keys: list[str]) -> None:
    if keys:
        c = timers_t.c
        await conn.execute(update(timers_t).where(c.key.in_(keys), c.status == "pending").values(status="fired"))
