"""Fixtures: the fake Bot API server and a real Hearth ``App`` (SQLite in tmp_path) pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.config import parse
from storage.models import OutboxMessage, ProcessedEvent
from tests.telegram.fake_api import BotState, FakeBotAPI

TOKEN = "7000000001:AAHfakeTokenForTests_only-123456789"
BOT_ID = 7000000001
SECRET = "s3cret_Token-1"


class Telegram:
    """One fake Telegram and the Hearth apps started against it (stopped at the end)."""

    def __init__(self, fake: FakeBotAPI, folder: Path) -> None:
        self.fake = fake
        self.bot: BotState = fake.add_bot(TOKEN)
        self.folder = folder
        self.apps: list[App] = []

    def config_text(self, mode: str = "polling", extra: str = "") -> str:
        webhook = (
            f'webhook_url = "https://bot.example.com/telegram"\nlisten = "127.0.0.1:0"\nsecret_token = "{SECRET}"\n'
            if mode == "webhook"
            else ""
        )
        return f"""
[bot]
database = "sqlite+aiosqlite:///{(self.folder / "hearth.db").as_posix()}"

[platforms.telegram]
token = "{TOKEN}"
api_url = "{self.fake.url}"
mode = "{mode}"
poll_timeout = 2
group_messages_per_minute = 6000
private_messages_per_second = 100
callback_answer_after = "1s"
{webhook}{extra}

[campaigns.daily]
type = "checkin"
points = 10
"""

    async def start(self, mode: str = "polling", extra: str = "") -> App:
        app = App(parse(self.config_text(mode, extra), "telegram-test.toml"))
        await app.start()
        self.apps.append(app)
        return app

    async def stop(self, app: App) -> None:
        if app in self.apps:
            self.apps.remove(app)
            await app.stop()

    async def outbox(self, app: App, status: str) -> int:
        t = OutboxMessage.__table__.c
        async with app.db.connect() as conn:
            return int((await conn.execute(select(func.count()).where(t.status == status))).scalar_one())

    async def processed(self, app: App, kind: str | None = None) -> int:
        t = ProcessedEvent.__table__.c
        q = select(func.count()).select_from(ProcessedEvent.__table__)
        if kind is not None:
            q = q.where(t.kind == kind)
        async with app.db.connect() as conn:
            return int((await conn.execute(q)).scalar_one())


async def eventually(predicate: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    """Wait for state that no request announces (rows the sender marks after a send)."""
    deadline = asyncio.get_running_loop().time() + within
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.02)


@pytest.fixture
async def tg(tmp_path: Path) -> AsyncIterator[Telegram]:
    async with FakeBotAPI() as fake:
        telegram = Telegram(fake, tmp_path)
        try:
            yield telegram
        finally:
            for app in list(telegram.apps):
                await telegram.stop(app)
