"""Fixtures: the fake WeCom server, the WeCom adapter pointed at it, and the real engine,
intake, sender and scheduler on SQLite with a manual clock (time moves only when told)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.wecom.adapter import WeComAdapter
from bot.clock import ManualClock
from bot.config import Config, parse
from bot.engine import Engine
from bot.events import EventKind
from bot.intake import Intake
from bot.scheduler import Scheduler
from bot.sender import Sender
from storage import db as storage_db
from storage.models import OutboxMessage, ProcessedEvent
from tests.wecom.fake_wecom import FakeWeCom
from tests.wecom.sender import AES_KEY, TOKEN, CallbackSender

CORP = "ww0123456789abcdef"
OWNER = "zhangsan"
START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def config_text(fake: FakeWeCom, db: Path, extra: str = "") -> str:
    return f"""
[bot]
database = "sqlite+aiosqlite:///{db.as_posix()}"

[platforms.wecom]
corp_id = "{CORP}"
secret = "{fake.secret}"
callback_token = "{TOKEN}"
encoding_aes_key = "{AES_KEY}"
host = "127.0.0.1"
port = 0
api_base = "{fake.url}"
staff = ["{OWNER}"]
{extra}
"""


class Rig:
    """One Hearth (engine, sender, scheduler, WeCom adapter) against one fake WeCom."""

    def __init__(self, fake: FakeWeCom, config: Config, clock: ManualClock) -> None:
        self.fake = fake
        self.config = config
        self.clock = clock
        self.db = storage_db.create_engine(config.bot.database)
        assert config.platforms.wecom is not None
        self.adapter = WeComAdapter(config.platforms.wecom, self.db, clock)
        self.adapter.roster.lag_delay = 0.0
        self.adapter.set_config(config)  # as bot/app.py does
        self.engine = Engine(config, self.db, clock, features={"wecom": self.adapter.features})
        self.intake = Intake(self.engine)
        self.sender = Sender(self.db, {"wecom": self.adapter}, clock)
        self.scheduler = Scheduler(config, self.db, clock, self.engine.campaigns, self.intake.submit)
        self.callbacks: CallbackSender | None = None

    async def start(self, background: bool = False) -> None:
        await storage_db.upgrade(self.db)
        self.intake.start()
        if background:
            await self.adapter.start(self.intake)
        else:  # the same parts, driven by the test
            self.adapter.roster.sink = self.intake
            await self.adapter.server.start()
        host, port = self.adapter.server.address  # type: ignore[misc]
        path = self.config.platforms.wecom.path  # type: ignore[union-attr]
        self.callbacks = CallbackSender(f"http://{host}:{port}{path}", CORP)

    async def stop(self) -> None:
        await self.adapter.stop()
        await self.intake.stop()
        await self.db.dispose()

    async def deliver(self, xml: bytes) -> None:
        """WeCom POSTs the callback; Hearth answers, then handles what it stored."""
        assert self.callbacks is not None
        status, text = await self.callbacks.send(xml)
        assert (status, text) == (200, "success")
        await self.adapter.handle_callbacks()

    async def advance(self, delta: timedelta) -> None:
        """Let time pass, firing schedules and timers on the way, and send what they made."""
        target = self.clock.now() + delta
        await self.scheduler.refresh()
        while (fire := self.scheduler.next_fire()) is not None and fire <= target:
            self.clock.set(fire)
            await self.scheduler.run_due()
            await self.flush()
        self.clock.set(target)
        await self.flush()

    async def flush(self) -> None:
        while await self.sender.drain() == 0.0:
            pass

    async def events(self, kind: EventKind) -> list[str]:
        t = ProcessedEvent.__table__.c
        async with self.db.connect() as conn:
            rows = await conn.execute(select(t.event_id).where(t.kind == str(kind)).order_by(t.id))
            return [r[0] for r in rows]

    async def outbox(self) -> list[tuple[str, str, str | None]]:
        t = OutboxMessage.__table__.c
        async with self.db.connect() as conn:
            rows = await conn.execute(select(t.action, t.status, t.error).order_by(t.id))
            return [tuple(r) for r in rows]  # type: ignore[misc]

    async def count(self, table: object) -> int:
        async with self.db.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeCom]:
    async with FakeWeCom(corp_id=CORP) as server:
        yield server


@pytest.fixture
async def rig_factory(fake: FakeWeCom, tmp_path: Path) -> AsyncIterator:
    rigs: list[Rig] = []

    async def make(extra: str = "", background: bool = False, clock: ManualClock | None = None) -> Rig:
        config = parse(config_text(fake, tmp_path / "hearth.db", extra), "wecom-test.toml")
        clock = clock or ManualClock(START)
        fake.clock = clock
        rig = Rig(fake, config, clock)
        await rig.start(background)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        await rig.stop()
