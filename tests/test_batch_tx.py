"""The engine's batch transaction (storage/tx.py, storage/bulk.py) on SQLite and PostgreSQL:
queued writes have the effects of immediate ones — later reads see them, their order is
kept, the batch cache follows them — and the compiled bulk path stores exactly what
SQLAlchemy's own path stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bookkeeping import Bookkeeper
from bot.events import Chat, Event, EventKind, Text, User
from storage import bulk, repo
from storage import db as storage_db
from storage.models import LedgerEntry, Membership, OutboxMessage
from storage.tx import Conn, Tx

RIGA = ZoneInfo("Europe/Riga")
T0 = datetime(2026, 3, 29, 2, 30, tzinfo=RIGA)  # the night Riga moves to summer time
LEDGER, MEMBERSHIPS, OUTBOX = LedgerEntry.__table__, Membership.__table__, OutboxMessage.__table__


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 't.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    engine = storage_db.create_engine(url)
    await storage_db.upgrade(engine)
    yield engine
    await engine.dispose()


async def award(conn: Conn, member: str, points: int, ref: str) -> None:
    await repo.add_points(
        conn, member=member, chat="sandbox:g1", campaign="c", points=points, reason="r", event_ref=ref, at=T0
    )


async def test_a_read_in_the_batch_sees_the_rows_queued_before_it(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        tx = Tx(conn)
        await award(tx, "sandbox:ann", 10, "e1")
        await award(tx, "sandbox:ann", 5, "e2")
        assert tx.dirty
        assert await repo.points_of(tx, "sandbox:ann", "sandbox:g1") == 15
        assert not tx.dirty


async def test_queued_upserts_apply_in_the_order_they_were_made(db: AsyncEngine) -> None:
    """Message, join, message for one member (three statements, one table) in one batch end
    exactly as three separate transactions do."""

    def event(kind: EventKind, minutes: int) -> Event:
        chat, user = Chat("sandbox", "g1", "G"), User("sandbox", "ann", "Ann")
        message = (Text("hi"),) if kind is EventKind.MESSAGE_CREATED else ()
        return Event(
            f"{kind}:{minutes}", kind, "sandbox", "hearth", T0 + timedelta(minutes=minutes), chat, user, message
        )

    events = [
        event(EventKind.MESSAGE_CREATED, 0),
        event(EventKind.MEMBER_JOINED, 1),
        event(EventKind.MESSAGE_CREATED, 2),
    ]
    async with db.begin() as conn:
        tx, keeper = Tx(conn), Bookkeeper()
        for e in events:
            await keeper.record(tx, e)
        await tx.flush()
        m = MEMBERSHIPS.c
        batched = (await conn.execute(select(m.messages, m.joined_at, m.last_seen_at))).one()
        await conn.execute(MEMBERSHIPS.delete())
        for e in events:  # one by one, each written at once
            await Bookkeeper().record(conn, e)
        one_by_one = (await conn.execute(select(m.messages, m.joined_at, m.last_seen_at))).one()
    assert batched == one_by_one
    assert batched.messages == 2 and batched.last_seen_at == events[2].at and batched.joined_at == events[1].at


async def test_the_batch_cache_follows_awards_and_forgets_after_a_direct_write(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        await award(conn, "sandbox:bob", 7, "old")  # committed state before the batch
    async with db.begin() as conn:
        tx = Tx(conn)
        await repo.prefetch_points(tx, [("sandbox:bob", "sandbox:g1"), ("sandbox:bob", None)])
        before = tx.statements
        await award(tx, "sandbox:bob", 3, "new")
        assert await repo.points_of(tx, "sandbox:bob", "sandbox:g1") == 10
        assert await repo.points_of(tx, "sandbox:bob", None) == 10
        assert tx.statements == before  # answered from the cache, the row still queued
        await tx.execute(update(LEDGER).where(LEDGER.c.event_ref == "old").values(points=100))
        assert await repo.points_of(tx, "sandbox:bob", "sandbox:g1") == 103  # read again, not stale


async def test_the_compiled_path_stores_what_sqlalchemy_stores(db: AsyncEngine) -> None:
    statement = OUTBOX.insert()
    row = dict(
        platform="sandbox",
        target="sandbox:g1",
        action="send_message",
        payload={"type": "send_message", "content": "签到 ✅", "buttons": [[{"text": "a"}]]},
        status="pending",
        attempts=0,
        not_before=T0,  # aware, not UTC: stored as UTC either way
        created_at=T0.astimezone(UTC),
        event_ref=None,
    )
    assert bulk.prepare(statement, db.dialect, tuple(row)) is not None
    async with db.begin() as conn:
        await bulk.insert_many(conn, statement, [row, {**row, "event_ref": "x"}])  # compiled path
        await conn.execute(statement, [row, {**row, "event_ref": "x"}])  # SQLAlchemy's path
    o = OUTBOX.c
    async with db.connect() as conn:
        stored = (await conn.execute(select(*(o[k] for k in row)).order_by(o.id))).all()
    assert stored[0] == stored[2] and stored[1] == stored[3]
    assert stored[0].not_before == T0 and stored[0].payload == row["payload"]


async def test_rows_missing_a_defaulted_column_take_sqlalchemys_path(db: AsyncEngine) -> None:
    statement = OUTBOX.insert()
    row = dict(platform="sandbox", target="sandbox:g1", action="send_message", payload={}, not_before=T0, created_at=T0)
    assert bulk.prepare(statement, db.dialect, tuple(row)) is None  # status/attempts have Python defaults
    async with db.begin() as conn:
        await bulk.insert_many(conn, statement, [row, row])
    async with db.connect() as conn:
        stored = (await conn.execute(select(OUTBOX.c.status, OUTBOX.c.attempts))).all()
    assert stored == [("pending", 0), ("pending", 0)]
