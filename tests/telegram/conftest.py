"""Fixtures: the fake Bot API server and a real Hearth ``App`` (SQLite in tmp_path) pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.config import parse
from tests import apps
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
        return await apps.outbox(app, status)

    async def processed(self, app: App, kind: str | None = None) -> int:
        return await apps.processed(app, kind)


eventually = apps.eventually  # state that no request announces (rows the sender marks after a send)


@pytest.fixture
async def tg(tmp_path: Path) -> AsyncIterator[Telegram]:
    async with FakeBotAPI() as fake:
        telegram = Telegram(fake, tmp_path)
        try:
            yield telegram
        finally:
            for app in list(telegram.apps):
                await telegram.stop(app)
