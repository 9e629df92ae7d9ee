"""Move a chat's data to a new chat key (Telegram's group → supergroup upgrade changes the id).

:func:`rekey_chat` runs inside the caller's transaction and touches every table:

* ``chats``: the row is renamed; if the new chat already has a row, the old one is kept but
  marked inactive (its title and history stay readable, no schedule fires there).
* ``memberships``: renamed; where the member already has a row in the new chat the two are
  merged (messages added, earliest join, latest activity, and the original join's invite
  attribution kept, since that join happened in the old group).
* ``outbox``: rows addressed to the old chat (``target`` and the payload's ``chat``) now go to
  the new one, so pending replies are delivered to the supergroup.
* every other table in the database with a ``chat_key`` column (check-ins, ledger, schedule
  fires, and any table added later that follows the convention; found by reflection):
  renamed, except rows that would collide with a unique key already taken in the new chat;
  those stay under the old key (nothing is deleted) and are counted under ``"<table>.kept"``.

Running it again is harmless: nothing is left under the old key to move.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import MetaData, Table, UniqueConstraint, and_, delete, exists, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Chat, Membership, OutboxMessage

log = logging.getLogger(__name__)
chats_t = Chat.__table__
memberships_t = Membership.__table__
outbox_t = OutboxMessage.__table__
CHAT_COLUMN = "chat_key"
_SPECIAL = {chats_t.name, memberships_t.name, outbox_t.name}


async def rekey_chat(conn: AsyncConnection, old: str, new: str) -> dict[str, int]:
    """Move every row of chat ``old`` to ``new``; returns rows moved per table."""
    if old == new:
        return {}
    moved: dict[str, int] = {
        "chats": await _chats(conn, old, new),
        "memberships": await _memberships(conn, old, new),
        "outbox": await _outbox(conn, old, new),
    }
    for table in await conn.run_sync(_reflect):
        if table.name in _SPECIAL or CHAT_COLUMN not in table.c:
            continue
        done, kept = await _generic(conn, table, old, new)
        moved[table.name] = done
        if kept:
            moved[f"{table.name}.kept"] = kept
    log.info("chat %s re-keyed to %s: %s", old, new, {k: v for k, v in moved.items() if v})
    return moved


async def _chats(conn: AsyncConnection, old: str, new: str) -> int:
    c = chats_t.c
    if (await conn.execute(select(c.key).where(c.key == new))).first() is None:
        result = await conn.execute(update(chats_t).where(c.key == old).values(key=new))
    else:
        result = await conn.execute(update(chats_t).where(c.key == old).values(active=False))
    return result.rowcount or 0


async def _memberships(conn: AsyncConnection, old: str, new: str) -> int:
    c = memberships_t.c
    newer = memberships_t.alias("newer")
    pairs = (
        await conn.execute(
            select(memberships_t, *[newer.c[col.name].label(f"new_{col.name}") for col in memberships_t.c])
            .join(newer, and_(newer.c.member_key == c.member_key, newer.c.chat_key == new))
            .where(c.chat_key == old)
        )
    ).all()
    for row in pairs:
        m = row._mapping
        merged = dict(
            messages=(m["messages"] or 0) + (m["new_messages"] or 0),
            joined_at=_earliest(m["joined_at"], m["new_joined_at"]),
            last_seen_at=max(m["last_seen_at"], m["new_last_seen_at"]),
            invite_code=m["invite_code"] or m["new_invite_code"],
            invited_by=m["invited_by"] or m["new_invited_by"],
            invite_confidence=m["invite_confidence"] or m["new_invite_confidence"],
        )
        where = and_(c.chat_key == new, c.member_key == m["member_key"])
        await conn.execute(update(memberships_t).where(where).values(**merged))
        await conn.execute(delete(memberships_t).where(c.chat_key == old, c.member_key == m["member_key"]))
    result = await conn.execute(update(memberships_t).where(c.chat_key == old).values(chat_key=new))
    return len(pairs) + (result.rowcount or 0)


def _earliest(a: Any, b: Any) -> Any:
    return min(x for x in (a, b) if x is not None) if (a or b) else None


async def _outbox(conn: AsyncConnection, old: str, new: str) -> int:
    c = outbox_t.c
    rows = (await conn.execute(select(c.id, c.payload).where(c.target == old))).all()
    for row_id, payload in rows:
        data = dict(payload or {})
        if data.get("chat") == old:
            data["chat"] = new
        await conn.execute(update(outbox_t).where(c.id == row_id).values(target=new, payload=data))
    return len(rows)


def _reflect(sync: Connection) -> list[Table]:
    """Every table in the database as it is (models may live in modules not imported here)."""
    metadata = MetaData()
    metadata.reflect(sync)
    return list(metadata.sorted_tables)


def _unique_sets(table: Table) -> list[list[str]]:
    """Column sets of the unique keys that include ``chat_key``."""
    sets: list[list[str]] = []
    if CHAT_COLUMN in table.primary_key.columns:
        sets.append([col.name for col in table.primary_key.columns])
    for constraint in table.constraints:
        cols = [col.name for col in getattr(constraint, "columns", [])]
        if isinstance(constraint, UniqueConstraint) and CHAT_COLUMN in cols:
            sets.append(cols)
    for index in table.indexes:
        cols = [col.name for col in index.columns]
        if index.unique and CHAT_COLUMN in cols:
            sets.append(cols)
    return sets


async def _generic(conn: AsyncConnection, table: Table, old: str, new: str) -> tuple[int, int]:
    c = table.c
    clashes = []
    for cols in _unique_sets(table):
        other = table.alias("taken")
        same = [other.c[name] == c[name] for name in cols if name != CHAT_COLUMN]
        clashes.append(exists(select(1).select_from(other).where(other.c[CHAT_COLUMN] == new, *same)))
    movable = and_(c[CHAT_COLUMN] == old, *[~clash for clash in clashes])
    result = await conn.execute(update(table).where(movable).values({CHAT_COLUMN: new}))
    kept = 0
    if clashes:
        kept = len((await conn.execute(select(c[CHAT_COLUMN]).where(c[CHAT_COLUMN] == old))).all())
        if kept:
            log.warning("%d row(s) of %s stay under %s: the same facts exist under %s", kept, table.name, old, new)
    return result.rowcount or 0, kept
