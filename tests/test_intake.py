"""The intake in front of the engine: concurrent submissions share commits (group commit),
each submitter returns once its events are committed, and stopping never leaves one hanging."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from adapters.sandbox.decode import decode
from bot.clock import ManualClock
from bot.config import parse
from bot.engine import Engine
from bot.events import Event
from bot.intake import Intake
from storage import db as storage_db
from storage.models import Checkin

CONFIG = '[bot]\ntimezone = "UTC"\n[platforms.sandbox]\n[campaigns.daily]\ntype = "checkin"\n'
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Counted(Engine):
    """The real engine, counting its commits."""

    commits = 0

    async def handle(self, events: Sequence[Event]) -> None:
        await super().handle(events)
        self.commits += 1


@pytest.fixture
async def engine(tmp_path) -> AsyncIterator[Counted]:
    db = storage_db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'i.db'}")
    await storage_db.upgrade(db)
    yield Counted(parse(CONFIG, "t.toml"), db, ManualClock(NOW))
    await db.dispose()


def checkin(user: str) -> Event:
    event = decode({"op": "say", "chat": "g1", "user": user, "text": "/checkin"}, user, NOW, {"g1": "G"})
    assert event is not None
    return event


async def test_fifty_members_checking_in_at_once_share_a_few_commits(engine: Counted) -> None:
    intake = Intake(engine)
    intake.start()
    try:
        await asyncio.wait_for(asyncio.gather(*(intake.submit([checkin(f"m{i}")]) for i in range(50))), 60)
    finally:
        await intake.stop()
    async with engine.db.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(Checkin.__table__))).scalar_one() == 50
    assert 1 <= engine.commits < 50


async def test_stopping_cancels_submitters_still_waiting(engine: Counted) -> None:
    intake = Intake(engine)  # never started: nothing will commit
    waiting = asyncio.create_task(intake.submit([checkin("late")]))
    await asyncio.sleep(0)  # one turn of the loop: the submitter queues its event and waits
    await intake.stop()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiting, 60)
