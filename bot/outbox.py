"""The durable outgoing queue: rows written with the event's transaction, read by the sender."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import Text, and_, func, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import actions as act
from bot.events import Event, split_key
from storage.models import OutboxMessage

outbox_t = OutboxMessage.__table__
PER_TARGET = 100  # queued rows read per chat and round: more than one merged message holds
MAX_ATTEMPTS = 16  # tries that reached the platform; with back-off capped at 5 min, about 45 min


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


@dataclass(frozen=True)
class Pending:
    """A pending outbox row. Its action is decoded only when asked for: a backlogged chat's
    queue is read in full each round, but only its head (or one merged batch) goes out."""

    id: int
    platform: str
    target: str
    payload: str | dict  # the stored JSON, as text (or already decoded, by some drivers)
    attempts: int
    merged_into: int | None = None  # the first row's id, when this row is part of a merged send

    @cached_property
    def action(self) -> act.Action:
        data = self.payload if isinstance(self.payload, dict) else json.loads(self.payload)
        return act.load(data)


def _columns() -> tuple[Any, ...]:
    c = outbox_t.c
    return c.id, c.platform, c.target, type_coerce(c.payload, Text).label("payload"), c.attempts, c.merged_into


async def due(
    conn: AsyncConnection, platforms: list[str], now: datetime, limit: int = 500, per_target: int = PER_TARGET
) -> list[Pending]:
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
    # A round sends at most one message (one merged batch) per chat: a backlogged chat's queue
    # is read only as far as a batch can reach, so a long backlog costs nothing per round.
    rank = func.row_number().over(partition_by=(c.platform, c.target), order_by=c.id).label("rank")
    ranked = (
        select(*_columns(), rank)
        .where(and_(c.status == "pending", c.platform.in_(platforms), c.not_before <= now), ~waiting)
        .subquery()
    )
    r = ranked.c
    q = (
        select(r.id, r.platform, r.target, r.payload, r.attempts, r.merged_into)
        .where(r.rank <= per_target)
        .order_by(r.id)
        .limit(limit)
    )
    return [_pending(row) for row in await conn.execute(q)]


def _pending(r: Any) -> Pending:
    return Pending(r.id, r.platform, r.target, r.payload, r.attempts, r.merged_into)


async def merged_group(conn: AsyncConnection, first: int) -> list[Pending]:
    """The pending rows of the merged send that starts at row ``first``, in order."""
    c = outbox_t.c
    q = select(*_columns()).where(c.merged_into == first, c.status == "pending").order_by(c.id)
    return [_pending(r) for r in await conn.execute(q)]


async def mark_merged(conn: AsyncConnection, ids: list[int]) -> None:
    """Fix a merged send before it is tried: from now on these rows go together, as one."""
    await conn.execute(update(outbox_t).where(outbox_t.c.id.in_(ids)).values(merged_into=ids[0]))


async def heads(conn: AsyncConnection, platforms: list[str]) -> list[int]:
    """The oldest pending row of every target (what a sender would have had in flight)."""
    c = outbox_t.c
    q = select(func.min(c.id)).where(c.status == "pending", c.platform.in_(platforms)).group_by(c.platform, c.target)
    return [r[0] for r in await conn.execute(q)]


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


async def mark_retry(
    conn: AsyncConnection,
    row: Pending,
    now: datetime,
    delay: float,
    error: str,
    ids: list[int] | None = None,
    *,
    counted: bool = True,
) -> None:
    """Count a failed try of ``row`` (and of the rest of its merged send, ``ids``).

    ``counted=False``: the try never reached the platform; it is held for ``delay`` seconds
    and does not use up one of the ``MAX_ATTEMPTS``.
    """
    c = outbox_t.c
    attempts = row.attempts + 1 if counted else row.attempts
    values: dict[str, Any] = {"attempts": attempts, "error": error[:500]}
    if attempts >= MAX_ATTEMPTS:
        values["status"] = "failed"
    else:
        values["not_before"] = now + timedelta(seconds=delay)
    await conn.execute(update(outbox_t).where(c.id.in_(ids or [row.id])).values(**values))


async def mark_failed(conn: AsyncConnection, ids: list[int], error: str) -> None:
    c = outbox_t.c
    await conn.execute(
        update(outbox_t).where(c.id.in_(ids)).values(status="failed", error=error[:500], attempts=c.attempts + 1)
    )
