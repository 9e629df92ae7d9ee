"""Fixtures: a real Hearth ``App`` (SQLite in tmp_path) with ``[platforms.onebot]``, and fake
OneBot accounts that reach it over real WebSockets on localhost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.onebot.adapter import OneBotAdapter
from bot.app import App
from bot.config import parse
from storage.models import OutboxMessage, ProcessedEvent
from tests.onebot.fake_onebot import FakeAccount

TOKEN = "ob-t0ken_for-tests-only"
QQ_BOT = 10001000
WX_BOT = 10002000
GROUP = 123456
CAMPAIGNS = """
[campaigns.daily]
type = "checkin"
aliases = ["签到", "打卡"]
points = 10
"""


class OneBot:
    """Hearth apps started against fake accounts (all stopped at the end)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.apps: list[App] = []
        self.accounts: list[FakeAccount] = []

    def config_text(self, platform: str = "", campaigns: str = CAMPAIGNS) -> str:
        platform = (
            platform
            or f"""
[platforms.onebot]
mode = "reverse"
access_token = "{TOKEN}"
listen = "127.0.0.1:0"
group_messages_per_minute = 6000
messages_per_second = 1000
[[platforms.onebot.bots]]
self_id = "{QQ_BOT}"
platform = "qq"
[[platforms.onebot.bots]]
self_id = "{WX_BOT}"
platform = "wechat"
"""
        )
        return f"""
[bot]
database = "sqlite+aiosqlite:///{(self.folder / "hearth.db").as_posix()}"
{platform}
{campaigns}
"""

    async def start(self, platform: str = "", campaigns: str = CAMPAIGNS) -> App:
        app = App(parse(self.config_text(platform, campaigns), "onebot-test.toml"))
        await app.start()
        self.apps.append(app)
        return app

    def account(self, self_id: int = QQ_BOT) -> FakeAccount:
        account = FakeAccount(self_id)
        self.accounts.append(account)
        return account

    @staticmethod
    def adapter(app: App) -> OneBotAdapter:
        adapter = app.adapters["onebot"]
        assert isinstance(adapter, OneBotAdapter)
        return adapter

    def url(self, app: App) -> str:
        server = self.adapter(app).server
        assert server is not None
        return f"ws://127.0.0.1:{server.port}/onebot/v11/ws"

    async def close(self) -> None:
        for account in self.accounts:
            await account.close()
        for app in self.apps:
            await app.stop()


async def count(app: App, table: type, **where: str) -> int:
    t = table.__table__
    q = select(func.count()).select_from(t)
    for column, value in where.items():
        q = q.where(t.c[column] == value)
    async with app.db.connect() as conn:
        return int((await conn.execute(q)).scalar_one())


async def processed(app: App, kind: str | None = None) -> int:
    return await count(app, ProcessedEvent, **({"kind": kind} if kind else {}))


async def outbox(app: App, status: str) -> int:
    return await count(app, OutboxMessage, status=status)


async def eventually(predicate: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.02)


@pytest.fixture
async def onebot(tmp_path: Path) -> AsyncIterator[OneBot]:
    ob = OneBot(tmp_path)
    try:
        yield ob
    finally:
        await ob.close()
