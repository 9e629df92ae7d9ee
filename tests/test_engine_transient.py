"""A database that fails for a moment leaves the event unacknowledged, to be delivered again;
a campaign that fails is recorded (tests/test_engine_failures.py) and not retried.

The "locked" database is real: a second SQLite connection holds the write lock while the
engine handles a check-in, with the engine's busy timeout shortened so it gives up at once.
"""

from __future__ import annotations

import socket
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from bot.clock import ManualClock
from bot.engine import Engine
from bot.intake import Intake
from storage import db as storage_db
from storage.models import ProcessedEvent
from tests.harness import Conversation

START = datetime(2026, 3, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CONFIG = """
[bot]
timezone = "Asia/Shanghai"
[platforms.sandbox]
[campaigns.daily]
type = "checkin"
points = 10
"""


def _impatient(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=0")
    cur.close()


@pytest.fixture
async def chat(tmp_path: Path):
    conv = await Conversation.open(CONFIG, START, database=f"sqlite+aiosqlite:///{tmp_path / 'locked.db'}")
    sa_event.listen(conv.db.sync_engine, "connect", _impatient)  # after the pragmas that set 5 s
    await conv.db.dispose()  # reconnect with the listener in place
    yield conv, tmp_path / "locked.db"
    await conv.close()


async def processed(conv: Conversation) -> list[tuple[str, str | None]]:
    c = ProcessedEvent.__table__.c
    async with conv.db.connect() as conn:
        return [tuple(r) for r in await conn.execute(select(c.event_id, c.error))]  # type: ignore[misc]


async def test_a_locked_database_leaves_the_event_to_be_delivered_again(chat) -> None:
    conv, path = chat
    checkin = conv.event("say", "alice", text="/checkin")
    other = sqlite3.connect(path)
    other.execute("BEGIN EXCLUSIVE")  # another writer holds the database
    try:
        intake = Intake(conv.engine)
        intake.start()
        with pytest.raises(Exception, match="database is locked"):
            await intake.submit([checkin])  # the adapter is told: not committed
        await intake.stop()
    finally:
        other.rollback()
        other.close()
    assert await processed(conv) == []  # not recorded as a failed event
    assert conv.engine.failed == 0
    assert await conv.deliver(checkin)  # the platform delivers it again: handled once, answered
    assert await processed(conv) == [(checkin.id, None)]
    assert await conv.deliver(checkin) == []


async def test_an_unreachable_postgresql_leaves_the_event_to_be_delivered_again() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conv = await Conversation.open(CONFIG, START)
    db = storage_db.create_engine(f"postgresql+asyncpg://hearth:pw@127.0.0.1:{port}/hearth")
    engine = Engine(conv.config, db, ManualClock(START))
    try:
        with pytest.raises(ConnectionError):
            await engine.handle([conv.event("say", "alice", text="/checkin")])
        assert engine.failed == 0  # re-raised, not recorded as the event's fault
    finally:
        await db.dispose()
        await conv.close()
