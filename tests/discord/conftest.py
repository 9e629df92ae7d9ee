"""Fixtures: the fake Discord and a real Hearth ``App`` (SQLite in tmp_path) pointed at it.

discord.py is redirected the supported way: ``discord.http.Route.BASE`` (every REST call,
webhooks and interaction callbacks included, is built from it) points at the fake, and the
sharded client asks the fake's ``GET /gateway/bot`` where the gateway is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import discord.http
import pytest

from adapters.discord.adapter import DiscordAdapter
from bot.app import App
from bot.config import parse
from tests import apps
from tests.discord import payloads as p
from tests.discord.fake_discord import FakeDiscord


class Discord:
    """One fake Discord and the Hearth apps started against it (stopped at the end)."""

    def __init__(self, fake: FakeDiscord, folder: Path) -> None:
        self.fake = fake
        self.folder = folder
        self.apps: list[App] = []

    def config_text(self, extra: str = "", campaigns: str = "", intents: str = "") -> str:
        return f"""
[bot]
database = "sqlite+aiosqlite:///{(self.folder / "hearth.db").as_posix()}"
admins = ["discord:{p.OWNER}"]

[platforms.discord]
token = "{p.TOKEN}"
channel_messages_per_second = 100.0
channel_burst = 100
interaction_answer_after = "1s"
{extra}
[platforms.discord.intents]
{intents or "members = true"}

[[platforms.discord.guilds]]
id = "{p.GUILD}"
channels = ["{p.GENERAL}", "{p.EVENTS}"]

[campaigns.daily]
type = "checkin"
aliases = ["签到"]
points = 10
{campaigns}
"""

    async def start(self, extra: str = "", campaigns: str = "", intents: str = "", ready: bool = False) -> App:
        """Start an app; return once its gateway session is identified, or with ``ready`` once
        discord.py is ready and the invite counts are loaded (discord.py waits 2 s for guilds)."""
        app = App(parse(self.config_text(extra, campaigns, intents), "discord-test.toml"))
        sessions = len(self.fake.identified)
        await app.start()
        self.apps.append(app)
        if ready:
            await asyncio.wait_for(self.adapter(app).ready.wait(), 15)
        else:
            await self.fake.wait_for(lambda: len(self.fake.identified) > sessions and bool(self.fake.sockets))
        return app

    @staticmethod
    def adapter(app: App) -> DiscordAdapter:
        adapter = app.adapters["discord"]
        assert isinstance(adapter, DiscordAdapter)
        return adapter

    async def stop(self, app: App) -> None:
        if app in self.apps:
            self.apps.remove(app)
            await app.stop()

    async def outbox(self, app: App, status: str) -> int:
        return await apps.outbox(app, status)

    async def processed(self, app: App, kind: str | None = None) -> int:
        return await apps.processed(app, kind)


eventually = apps.eventually


@pytest.fixture
async def dc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Discord]:
    async with FakeDiscord() as fake:
        monkeypatch.setattr(discord.http.Route, "BASE", f"{fake.url}/api/v10")
        discord_ = Discord(fake, tmp_path)
        try:
            yield discord_
        finally:
            for app in list(discord_.apps):
                await discord_.stop(app)
