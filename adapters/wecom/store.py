"""What the WeCom adapter keeps: rosters, groups, stored callbacks and daily group figures.

The roster is written only after the events its change produced were committed by the
engine, so a crash in between makes the next look produce the same events again, which the
engine's dedup absorbs (their ids name the membership).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.wecom.decode import PLATFORM, ChatChange, GroupDetail, Member
from storage.models import Chat, Membership
from storage.models import Member as MemberRow
from storage.sql import ignore_statement, insert_ignore, upsert
from storage.wecom_models import WeComCallback, WeComChat, WeComGroupDay, WeComRosterEntry

chats_t = WeComChat.__table__
roster_t = WeComRosterEntry.__table__
callbacks_t = WeComCallback.__table__
days_t = WeComGroupDay.__table__
hearth_chats_t = Chat.__table__


@dataclass(frozen=True, slots=True)
class StoredCallback:
    id: int
    chat_id: str
    change: str
    detail: str
    members: tuple[str, ...]
    at: datetime


class WeComStore:
    def __init__(self, db: AsyncEngine) -> None:
        self.db = db

    # --- callbacks -------------------------------------------------------------------------------

    async def add_callback(self, change: ChatChange, digest: str, now: datetime) -> bool:
        """Store a verified callback; False when it is a retry of one already stored."""
        row = dict(
            digest=digest,
            chat_id=change.chat_id,
            change=change.change[:32],
            detail=change.detail[:32],
            members=list(change.members),
            at=change.at,
            received_at=now,
            status="pending",
        )
        async with self.db.begin() as conn:
            result = await conn.execute(ignore_statement(conn.dialect.name, callbacks_t), row)
        return bool(result.rowcount)

    async def pending_callbacks(self, limit: int = 100) -> list[StoredCallback]:
        c = callbacks_t.c
        q = select(callbacks_t).where(c.status == "pending").order_by(c.id).limit(limit)
        async with self.db.connect() as conn:
            rows = (await conn.execute(q)).all()
        return [StoredCallback(r.id, r.chat_id, r.change, r.detail, tuple(r.members or ()), r.at) for r in rows]

    async def forget_callbacks(self, before: datetime) -> int:
        """Drop handled callbacks received before ``before`` (WeCom retries within minutes)."""
        c = callbacks_t.c
        async with self.db.begin() as conn:
            result = await conn.execute(delete(callbacks_t).where(c.status == "done", c.received_at < before))
        return int(result.rowcount or 0)

    async def callback_done(self, callback_id: int) -> None:
        async with self.db.begin() as conn:
            await conn.execute(update(callbacks_t).where(callbacks_t.c.id == callback_id).values(status="done"))

    # --- groups and rosters ----------------------------------------------------------------------

    async def known(self, chat_id: str) -> bool:
        async with self.db.connect() as conn:
            q = select(chats_t.c.chat_id).where(chats_t.c.chat_id == chat_id)
            return (await conn.execute(q)).first() is not None

    async def active_groups(self) -> list[str]:
        async with self.db.connect() as conn:
            q = select(chats_t.c.chat_id).where(chats_t.c.active.is_(True)).order_by(chats_t.c.chat_id)
            return [r[0] for r in await conn.execute(q)]

    async def group(self, chat_id: str) -> tuple[str, str] | None:
        """(name, owner) of a known group."""
        async with self.db.connect() as conn:
            q = select(chats_t.c.name, chats_t.c.owner).where(chats_t.c.chat_id == chat_id)
            row = (await conn.execute(q)).first()
        return (row.name, row.owner) if row else None

    async def roster(self, chat_id: str) -> dict[str, Member]:
        c = roster_t.c
        async with self.db.connect() as conn:
            rows = (await conn.execute(select(roster_t).where(c.chat_id == chat_id))).all()
        return {r.userid: Member(r.userid, r.type, r.join_time, r.join_scene, r.state, r.unionid, r.name) for r in rows}

    async def save(self, group: GroupDetail, at: datetime, joins: int, leaves: int, baseline: bool = False) -> None:
        """Replace the group's roster with ``group`` and count the day's joins and leaves.

        ``baseline`` (the first look at a group) also records the members as present in
        Hearth's own tables, without events: they were there before Hearth.
        """
        members = [
            dict(
                chat_id=group.chat_id,
                userid=m.userid,
                type=m.type,
                join_time=m.join_time,
                join_scene=m.join_scene,
                state=m.state,
                unionid=m.unionid,
                name=m.name,
            )
            for m in group.members
        ]
        chat = dict(
            chat_id=group.chat_id, name=group.name, owner=group.owner, members=len(members), active=True, synced_at=at
        )
        day = dict(chat_id=group.chat_id, day=at.date(), members=len(members), joins=joins, leaves=leaves)
        async with self.db.begin() as conn:
            await conn.execute(delete(roster_t).where(roster_t.c.chat_id == group.chat_id))
            if members:
                await conn.execute(roster_t.insert(), members)
            await upsert(conn, chats_t, [chat], ["chat_id"], {k: v for k, v in chat.items() if k != "chat_id"})
            dc = days_t.c
            await upsert(
                conn,
                days_t,
                [day],
                ["chat_id", "day"],
                {"members": len(members), "joins": dc.joins + joins, "leaves": dc.leaves + leaves},
            )
            key = f"{PLATFORM}:{group.chat_id}"
            row = dict(key=key, platform=PLATFORM, title=group.name, active=True, created_at=at)
            await upsert(conn, hearth_chats_t, [row], ["key"], {"active": True, "title": group.name})
            if baseline:
                await _present(conn, key, group, at)

    async def dismiss(self, chat_id: str, at: datetime, leaves: int) -> None:
        async with self.db.begin() as conn:
            await conn.execute(delete(roster_t).where(roster_t.c.chat_id == chat_id))
            await conn.execute(
                update(chats_t).where(chats_t.c.chat_id == chat_id).values(active=False, members=0, synced_at=at)
            )
            day = dict(chat_id=chat_id, day=at.date(), members=0, joins=0, leaves=leaves)
            await upsert(conn, days_t, [day], ["chat_id", "day"], {"members": 0, "leaves": days_t.c.leaves + leaves})
            key = f"{PLATFORM}:{chat_id}"
            await conn.execute(update(hearth_chats_t).where(hearth_chats_t.c.key == key).values(active=False))

    async def days(self, since: datetime) -> list[tuple[str, str, int, int, int]]:
        """(chat id, day, members, joins, leaves) from ``since``, newest first."""
        c = days_t.c
        q = select(c.chat_id, c.day, c.members, c.joins, c.leaves).where(c.day >= since.date())
        async with self.db.connect() as conn:
            rows = await conn.execute(q.order_by(c.day.desc(), c.chat_id))
            return [(r[0], r[1].isoformat(), r[2], r[3], r[4]) for r in rows]


async def _present(conn: AsyncConnection, chat_key: str, group: GroupDetail, at: datetime) -> None:
    """Members found at the first look: in ``members``/``memberships`` as present, no events."""
    people = [
        dict(key=f"{PLATFORM}:{m.userid}", platform=PLATFORM, name=m.name or m.userid, is_bot=False, first_seen=at)
        for m in group.members
    ]
    ships = [
        dict(
            chat_key=chat_key,
            member_key=f"{PLATFORM}:{m.userid}",
            active=True,
            joined_at=datetime.fromtimestamp(m.join_time, UTC) if m.join_time else None,
            last_seen_at=at,
            messages=0,
        )
        for m in group.members
    ]
    await insert_ignore(conn, MemberRow.__table__, people)
    await insert_ignore(conn, Membership.__table__, ships)
