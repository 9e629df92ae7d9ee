"""A process that dies between a send and its mark neither loses nor doubles a reply, and a
stop lets the sends in flight finish and be marked.

``Idempotent`` is a platform stand-in that honours the idempotency key the way the sandbox
does: a key seen before returns the earlier message instead of posting again. A "crash" is a
sender whose drain is cancelled while the platform holds the send it already took; a fresh
``Sender`` on the same database (``resume`` first, as ``hearth run`` does) is the restart.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from adapters.base import SendResult
from bot import actions as act
from bot import outbox
from bot.clock import ManualClock
from bot.ratelimit import RateLimits
from bot.sender import Sender
from storage import db as storage_db
from storage.models import OutboxMessage

START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("UTC"))
UNLIMITED = RateLimits(per_second=1e9, burst=10**9, per_chat_per_second=1e9, per_chat_burst=10**9)


class Idempotent:
    """Posts each idempotency key once; may hold a send after posting it (to crash there)."""

    platform = "fake"
    features = frozenset()
    limits = UNLIMITED

    def __init__(self) -> None:
        self.posted: dict[str, str] = {}  # key -> text, in posting order
        self.keys: list[str] = []
        self.hold: asyncio.Event | None = None
        self.entered = asyncio.Event()

    async def start(self, sink: object) -> None: ...

    async def stop(self) -> None: ...

    async def perform(self, action: act.Action, idempotency_key: str) -> SendResult:
        self.keys.append(idempotency_key)
        if idempotency_key not in self.posted:
            self.posted[idempotency_key] = action.content  # type: ignore[union-attr]
        self.entered.set()
        if self.hold is not None:
            await self.hold.wait()
        return SendResult(message_id=str(list(self.posted).index(idempotency_key) + 1))

    def chat(self) -> list[str]:
        """Every line a member sees, in order (a merged message is several lines)."""
        return [line for text in self.posted.values() for line in text.split("\n\n")]


@pytest.fixture
async def db(tmp_path: Path):
    engine = storage_db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}")
    await storage_db.upgrade(engine)
    yield engine
    await engine.dispose()


async def enqueue(db, *texts: str) -> None:
    async with db.begin() as conn:
        rows = [outbox.outbox_row(act.SendMessage("fake:c1", t), None, START, platform="fake") for t in texts]
        await conn.execute(outbox.outbox_t.insert(), rows)


async def statuses(db) -> list[str]:
    c = OutboxMessage.__table__.c
    async with db.connect() as conn:
        return [r[0] for r in await conn.execute(select(c.status).order_by(c.id))]


async def crash_during_send(db, platform: Idempotent) -> None:
    """A sender takes one round and dies after the platform posted, before the mark."""
    platform.hold = asyncio.Event()
    platform.entered.clear()
    sender = Sender(db, {"fake": platform}, ManualClock(START), coalesce_after=4)  # rows it committed itself
    draining = asyncio.create_task(sender.drain())
    await asyncio.wait_for(platform.entered.wait(), timeout=30)
    draining.cancel()
    await asyncio.gather(draining, return_exceptions=True)
    platform.hold = None


async def restart_and_settle(db, platform: Idempotent) -> None:
    sender = Sender(db, {"fake": platform}, ManualClock(START), coalesce_after=4)
    await sender.resume()
    for _ in range(20):
        if "pending" not in await statuses(db):
            return
        await sender.drain()
    raise AssertionError("the outbox did not settle")


async def test_a_merged_send_cut_short_by_a_crash_is_neither_lost_nor_doubled(db) -> None:
    platform = Idempotent()
    await enqueue(db, "a", "b", "c", "d")
    await crash_during_send(db, platform)
    assert platform.chat() == ["a", "b", "c", "d"]  # posted as one message, never marked
    await enqueue(db, "e")  # more backlog arrives before the restart
    await restart_and_settle(db, platform)
    assert platform.chat() == ["a", "b", "c", "d", "e"]
    assert platform.keys.count("outbox:1-4") == 2  # the retry named the same rows, so it posted nothing new
    assert await statuses(db) == ["sent"] * 5


async def test_a_single_send_cut_short_by_a_crash_is_not_merged_into_a_new_message(db) -> None:
    platform = Idempotent()
    await enqueue(db, "a")
    await crash_during_send(db, platform)
    await enqueue(db, "b", "c", "d", "e")  # a backlog: the sender would like to merge
    await restart_and_settle(db, platform)
    assert platform.chat() == ["a", "b", "c", "d", "e"]
    assert platform.keys[:2] == ["outbox:1", "outbox:1"]  # "a" retried alone, under its own key
    assert await statuses(db) == ["sent"] * 5


async def test_stop_lets_the_send_in_flight_finish_and_be_marked(db) -> None:
    platform = Idempotent()
    platform.hold = asyncio.Event()
    sender = Sender(db, {"fake": platform}, ManualClock(START))
    await enqueue(db, "goodbye")
    running = asyncio.create_task(sender.run())
    await asyncio.wait_for(platform.entered.wait(), timeout=30)
    sender.stop()
    await asyncio.sleep(0)
    assert not running.done()  # waits for the platform, does not cut the send off
    platform.hold.set()
    await asyncio.wait_for(running, timeout=30)
    assert await statuses(db) == ["sent"]
    assert platform.chat() == ["goodbye"]


async def test_a_stop_waits_for_a_hung_send_only_as_long_as_the_timeout(tmp_path: Path) -> None:
    from bot.app import App
    from bot.config import parse

    config = parse(f'[bot]\ndatabase = "sqlite+aiosqlite:///{tmp_path / "app.db"}"\n[platforms.sandbox]\n', "test.toml")
    platform = Idempotent()
    platform.hold = asyncio.Event()  # never set: the platform hangs
    app = App(config, ManualClock(START), adapters={"fake": platform})
    await app.start()
    await enqueue(app.db, "hello")
    app.sender.wake()
    await asyncio.wait_for(platform.entered.wait(), timeout=30)
    await asyncio.wait_for(app.stop(send_timeout=0.05), timeout=30)
    check = storage_db.create_engine(config.bot.database)
    try:
        assert await statuses(check) == ["pending"]  # not marked: sent again (same key) after a restart
    finally:
        await check.dispose()
