"""State the admin commands keep: runtime campaign switches and broadcasts with their progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, insert, select, update

from storage.models import Broadcast, CampaignSwitch, Chat, Membership, OutboxMessage
from storage.sql import upsert
from storage.tx import Conn

switches_t = CampaignSwitch.__table__
broadcasts_t = Broadcast.__table__
outbox_t = OutboxMessage.__table__


# --- campaign switches ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Switch:
    campaign: str
    enabled: bool
    by: str
    at: datetime


async def switches(conn: Conn) -> dict[str, Switch]:
    rows = await conn.execute(select(switches_t))
    return {r.campaign: Switch(r.campaign, bool(r.enabled), r.by, r.at) for r in rows}


async def set_switch(conn: Conn, campaign: str, enabled: bool, by: str, at: datetime) -> None:
    row = dict(campaign=campaign, enabled=enabled, by=by, at=at)
    await upsert(conn, switches_t, [row], keys=["campaign"], update={"enabled": enabled, "by": by, "at": at})


# --- broadcasts -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BroadcastRow:
    id: int
    by: str
    origin: str
    content: str
    targets: list[str]
    event_ref: str
    status: str


async def add_broadcast(
    conn: Conn, *, by: str, origin: str, content: str, targets: list[str], event_ref: str, at: datetime
) -> int:
    row = dict(
        by=by, origin=origin, content=content, targets=targets, event_ref=event_ref, status="sending", created_at=at
    )
    result = await conn.execute(insert(broadcasts_t).returning(broadcasts_t.c.id), [row])
    return int(result.scalar_one())


async def get_broadcast(conn: Conn, ident: int) -> BroadcastRow | None:
    r = (await conn.execute(select(broadcasts_t).where(broadcasts_t.c.id == ident))).first()
    if r is None:
        return None
    return BroadcastRow(r.id, r.by, r.origin, r.content, list(r.targets or []), r.event_ref, r.status)


async def finish_broadcast(conn: Conn, ident: int, at: datetime) -> None:
    await conn.execute(update(broadcasts_t).where(broadcasts_t.c.id == ident).values(status="done", finished_at=at))


async def delivery(conn: Conn, event_ref: str, targets: list[str], content: str) -> dict[str, int]:
    """How a broadcast's messages fared: counts by outbox status (``pending``, ``sent``, ``failed``).

    The broadcast's messages are the ``send_message`` rows its event wrote to its targets with
    its text; the acknowledgement to the admin shares the event but not the text.
    """
    c = outbox_t.c
    q = select(c.target, c.status, c.payload).where(c.event_ref == event_ref, c.action == "send_message").order_by(c.id)
    wanted = set(targets)
    counts = {"pending": 0, "sent": 0, "failed": 0}
    for target, status, payload in await conn.execute(q):
        if target in wanted and (payload or {}).get("content") == content:
            counts[status] = counts.get(status, 0) + 1
    return counts


async def group_chats(conn: Conn) -> list[str]:
    """Every group the bot knows it is in: chats with at least one membership (private chats have none)."""
    chats, ms = Chat.__table__.c, Membership.__table__.c
    q = (
        select(chats.key)
        .where(chats.active.is_(True))
        .where(exists().where(ms.chat_key == chats.key))
        .order_by(chats.key)
    )
    return [r[0] for r in await conn.execute(q)]
