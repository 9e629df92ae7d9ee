"""The audit log of admin commands: who ran what, where, and what it changed.

Rows are written in the same transaction as the command's effect, so the log never claims
an effect that was rolled back, and never misses one that committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from storage.models import AuditEntry
from storage.tx import Conn

audit_t = AuditEntry.__table__
MAX_ARGS = 500
MAX_EFFECT = 2000


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    at: datetime
    actor: str
    chat: str | None
    command: str
    args: str
    outcome: str
    effect: str


async def record(
    conn: Conn,
    *,
    at: datetime,
    actor: str,
    chat: str | None,
    command: str,
    args: str,
    outcome: str,
    effect: str,
    event_ref: str,
) -> None:
    """Append one entry (``outcome``: ``done``, ``usage`` or ``rejected``)."""
    row = dict(
        at=at,
        actor=actor,
        chat_key=chat,
        command=command[:64],
        args=args[:MAX_ARGS],
        outcome=outcome,
        effect=effect[:MAX_EFFECT],
        event_ref=event_ref,
    )
    await conn.execute(insert(audit_t), [row])


async def recent(conn: Conn, chat: str | None = None, limit: int = 20) -> list[Entry]:
    """The newest entries first, of one chat (or of every chat when ``chat`` is None)."""
    c = audit_t.c
    q = select(audit_t).order_by(c.id.desc()).limit(limit)
    if chat is not None:
        q = q.where(c.chat_key == chat)
    rows = await conn.execute(q)
    return [Entry(r.id, r.at, r.actor, r.chat_key, r.command, r.args, r.outcome, r.effect) for r in rows]
