"""Fixtures: the fake QQ platform and real Hearth apps (SQLite in tmp_path) pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.clock import ManualClock
from bot.config import parse
from storage.models import OutboxMessage, ProcessedEvent
from tests.qq.fake_qq import FakeQQ

APP_ID = "102000000"
SECRET = "DG5g3B4j9X2KOErG"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


class StepClock(ManualClock):
    """The engine's manual clock; its sleeps yield for a moment so background loops idle."""

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(min(max(seconds, 0.0), 0.2))


class QQ:
    """One fake QQ platform and the Hearth apps started against it (stopped at the end)."""

    def __init__(self, fake: FakeQQ, folder: Path) -> None:
        self.fake = fake
        self.folder = folder
        self.clock = StepClock(T0)
        self.apps: list[App] = []

    def config_text(self, transport: str = "webhook", extra: str = "", campaigns: str = "") -> str:
        return f"""
[bot]
database = "sqlite+aiosqlite:///{(self.folder / "hearth.db").as_posix()}"

[platforms.qq]
app_id = "{APP_ID}"
secret = "{SECRET}"
transport = "{transport}"
host = "127.0.0.1"
port = 0
api_base = "{self.fake.url}"
token_url = "{self.fake.url}/app/getAppAccessToken"
{extra}

[campaigns.daily]
type = "checkin"
points = 10
aliases = ["签到"]
{campaigns}
"""

    async def start(self, transport: str = "webhook", extra: str = "", campaigns: str = "") -> App:
        app = App(parse(self.config_text(transport, extra, campaigns), "qq-test.toml"), clock=self.clock)
        await app.start()
        self.apps.append(app)
        return app

    def callback_url(self, app: App) -> str:
        server = app.adapters["qq"].webhook
        assert server is not None and server.address is not None
        host, port = server.address
        return f"http://{host}:{port}/qq/callback"

    async def outbox(self, app: App, status: str) -> list[tuple[str, str | None]]:
        t = OutboxMessage.__table__.c
        async with app.db.connect() as conn:
            rows = await conn.execute(select(t.payload, t.error).where(t.status == status).order_by(t.id))
            return [(r.payload.get("content", ""), r.error) for r in rows]

    async def processed(self, app: App) -> int:
        async with app.db.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(ProcessedEvent.__table__))).scalar_one())


async def eventually(predicate: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    """Wait for state no request announces (rows the sender marks after a send)."""
    deadline = asyncio.get_running_loop().time() + within
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.02)


@pytest.fixture
async def qq(tmp_path: Path) -> AsyncIterator[QQ]:
    async with FakeQQ(APP_ID, SECRET) as fake:
        platform = QQ(fake, tmp_path)
        try:
            yield platform
        finally:
            for app in platform.apps:
                await app.stop()
