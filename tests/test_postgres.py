"""The same code on PostgreSQL (asyncpg): the migrations build the schema, and a check-in
conversation gives exactly the replies, points and records it gives on SQLite.

A throwaway server is started from the installed binaries (tests/pg.py); without
PostgreSQL these tests are skipped with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from storage import db as storage_db
from storage.models import Base, Checkin, Membership, OutboxMessage, ProcessedEvent, ScheduleFire
from tests.harness import Conversation

CHECKINS, MEMBERSHIPS = Checkin.__table__.c, Membership.__table__.c
FIRES, OUTBOX, PROCESSED = ScheduleFire.__table__.c, OutboxMessage.__table__.c, ProcessedEvent.__table__.c
SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 1, 8, 0, tzinfo=SHANGHAI)
CONFIG = """
[bot]
timezone = "Asia/Shanghai"
[platforms.sandbox]
[campaigns.daily]
type = "checkin"
aliases = ["签到"]
points = 10
[[campaigns.daily.streak_rewards]]
days = 3
points = 50
[campaigns.morning]
type = "announcement"
schedule = "0 9 * * *"
text = "Morning, {group}!"
"""


async def test_migrations_build_the_models_schema_on_postgres(pg_url: str) -> None:
    engine = storage_db.create_engine(pg_url)
    try:
        await storage_db.upgrade(engine)
        await storage_db.upgrade(engine)  # idempotent

        def diff(conn):
            return compare_metadata(MigrationContext.configure(conn), Base.metadata)

        async with engine.connect() as conn:
            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()


@dataclass
class Outcome:
    """Everything a member or an owner could observe after the conversation."""

    replies: list[list[str]]
    ledger: list[tuple[str, int, str]]
    checkins: list[tuple[str, date, int]]
    memberships: list[tuple[str, int, bool, datetime]]
    fires: list[tuple[str, str, datetime, str]]
    outbox: list[tuple[str, str, str]]
    processed: int


async def converse(database: str) -> Outcome:
    """Three days of check-ins with a redelivery, a same-day repeat, /me, /top and a schedule."""
    conv = await Conversation.open(CONFIG, START, database=database)
    try:
        replies = [await conv.say("alice", "/checkin"), await conv.say("bob", "签到")]
        first = conv.event("say", "alice", at=START + timedelta(minutes=5), text="/checkin")
        replies.append([a.content for a in await conv.deliver(first, first)])  # "already", once
        replies.append([a.content for a in await conv.deliver(first)])  # redelivered: nothing
        replies.append(await conv.advance(timedelta(hours=2)))  # 09:00 announcement
        for day in (2, 3):
            at = datetime(2026, 3, day, 8, 30, tzinfo=SHANGHAI)
            batch = [conv.event("say", "alice", at=at, text="/checkin"), conv.event("say", "bob", text="/me")]
            batch.append(conv.event("say", "alice", text="thanks"))  # her membership, twice in one batch
            replies.append([a.content for a in await conv.deliver(*batch)])  # one group commit
        replies.append(await conv.say("carol", "/top"))
        async with conv.db.connect() as conn:

            async def rows(*columns, order) -> list:
                return [tuple(r) for r in await conn.execute(select(*columns).order_by(order))]

            c, m, f, o = CHECKINS, MEMBERSHIPS, FIRES, OUTBOX
            return Outcome(
                replies=replies,
                ledger=await conv.ledger(),
                checkins=await rows(c.member_key, c.day, c.streak, order=c.id),
                memberships=await rows(m.member_key, m.messages, m.active, m.last_seen_at, order=m.member_key),
                fires=await rows(f.campaign, f.chat_key, f.fire_time, f.status, order=f.fire_time),
                outbox=await rows(o.target, o.action, o.status, order=o.id),
                processed=len(await rows(PROCESSED.id, order=PROCESSED.id)),
            )
    finally:
        await conv.close()


async def test_checkin_conversation_on_postgres_matches_sqlite(pg_url: str, tmp_path, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="bot.engine")
    on_pg = await converse(pg_url)
    assert caplog.records == []  # every batch committed as a whole: none failed and was replayed
    on_sqlite = await converse(f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}")
    assert on_pg == on_sqlite

    alice_first, bob_first, again, redelivered, morning, day2, day3, top = on_pg.replies
    assert "alice checked in" in alice_first[0] and "Streak: 1" in alice_first[0]
    assert "bob checked in" in bob_first[0]
    assert len(again) == 1 and "already checked in" in again[0]
    assert redelivered == []
    assert morning == ["Morning, Group one!"]
    assert "Streak: 2" in day2[0] and "bob: 10 points" in day2[1]
    assert "Streak: 3" in day3[0] and "3-day streak" in day3[0]
    assert top[0].index("alice") < top[0].index("bob")
    assert sum(p for m, p, _ in on_pg.ledger if m == "sandbox:alice") == 3 * 10 + 50
    assert [s for m, _, s in on_pg.checkins if m == "sandbox:alice"] == [1, 2, 3]
    assert on_pg.fires == [("morning", "sandbox:g1", datetime(2026, 3, 1, 1, 0, tzinfo=ZoneInfo("UTC")), "fired")]
    assert {status for _, _, status in on_pg.outbox} == {"sent"} and len(on_pg.outbox) == 9
    assert on_pg.processed == 11  # every event once: the duplicate and the redelivery are not recorded again
    alice = next(row for row in on_pg.memberships if row[0] == "sandbox:alice")
    assert alice[1] == 6 and alice[2] is True  # six messages counted once each, the redelivery not
    assert alice[3].utcoffset() == timedelta(0)  # times come back aware UTC on both backends


async def test_the_sender_reads_and_sends_the_outbox_on_postgres(pg_url: str) -> None:
    """Queued actions come back out of PostgreSQL's JSON column intact, merged under backlog."""
    from adapters.base import Feature, SendResult
    from bot import actions as act
    from bot import outbox
    from bot.clock import ManualClock
    from bot.ratelimit import RateLimits
    from bot.sender import Sender

    class Platform:
        platform = "fake"
        features = frozenset({Feature.BUTTONS})
        limits = RateLimits(per_second=1e9, burst=10**9, per_chat_per_second=1e9, per_chat_burst=10**9)
        sent: list[act.Action] = []

        async def perform(self, action: act.Action, idempotency_key: str) -> SendResult:
            self.sent.append(action)
            return SendResult(message_id=str(len(self.sent)))

    engine = storage_db.create_engine(pg_url)
    try:
        await storage_db.upgrade(engine)
        clock = ManualClock(START)
        first = act.SendMessage("fake:c1", "Привет, 签到 ✅", buttons=((act.Button("OK", data="ok"),),))
        rest = [act.SendMessage("fake:c1", f"reply {i}") for i in range(30)]
        async with engine.begin() as conn:
            rows = [outbox.outbox_row(a, None, clock.now(), platform="fake") for a in [first, *rest]]
            await conn.execute(OutboxMessage.__table__.insert(), rows)
        platform = Platform()
        sender = Sender(engine, {"fake": platform}, clock)
        while await sender.drain() == 0.0:
            pass
        assert platform.sent[0] == first
        merged = "\n\n".join(a.content for a in platform.sent[1:])  # type: ignore[attr-defined]
        assert merged == "\n\n".join(a.content for a in rest) and len(platform.sent) < 31
        async with engine.connect() as conn:
            statuses = (await conn.execute(select(OUTBOX.status).distinct())).scalars().all()
        assert statuses == ["sent"]
    finally:
        await engine.dispose()
