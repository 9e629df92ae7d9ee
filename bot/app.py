"""Wiring: database, engine, intake, sender, scheduler and adapters for ``hearth run``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import Adapter
from bot import builtins, command_menu
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.db_errors import unusable
from bot.engine import Engine
from bot.intake import Intake
from bot.platforms import build_adapters
from bot.scheduler import Scheduler
from bot.sender import Sender
from storage import db as storage_db

log = logging.getLogger(__name__)
STOP_SEND_TIMEOUT = 10.0  # seconds a stop waits for the sends in flight to finish and be marked


class StartError(RuntimeError):
    """Hearth cannot start (the database cannot be used, ...): one line for the operator."""


class App:
    """One running Hearth: ``await app.start()``, then ``await app.stop()``."""

    def __init__(
        self, config: Config, clock: Clock | None = None, adapters: Mapping[str, Adapter] | None = None
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.db: AsyncEngine = storage_db.create_engine(config.bot.database)
        self.adapters = dict(adapters) if adapters is not None else build_adapters(config, self.db, self.clock)
        # an adapter may serve several key prefixes (OneBot: qq, wechat); each object is set up once
        self._distinct = list(dict.fromkeys(self.adapters.values()))
        self.sender = Sender(self.db, self.adapters, self.clock)
        features = {name: adapter.features for name, adapter in self.adapters.items()}
        self.engine = Engine(config, self.db, self.clock, on_commit=self.sender.wake, features=features)
        self.intake = Intake(self.engine)
        menu = command_menu.registry(self.engine.campaigns, [b.spec for b in builtins.REGISTRY.values()])
        for adapter in self._distinct:
            if hasattr(adapter, "set_commands"):  # platforms with native command menus (Discord)
                adapter.set_commands(menu)
            if hasattr(adapter, "set_config"):  # reads campaign tables as its CLI does (WeCom's join ways, welcome)
                adapter.set_config(config)
        groups = {g: t for a in self._distinct for g, t in getattr(a, "groups", {}).items()}
        self.scheduler = Scheduler(config, self.db, self.clock, self.engine.campaigns, self.intake.submit, groups)
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        try:
            await storage_db.upgrade(self.db)
            await self.sender.resume()
        except Exception as err:
            raise StartError(unusable(self.db.url, err)) from None
        self.intake.start()
        for adapter in self._distinct:
            await adapter.start(self.intake)
        self._tasks = [
            asyncio.create_task(self.sender.run(), name="hearth-sender"),
            asyncio.create_task(
                self.scheduler.run(self.config.scheduler.tick.total_seconds()), name="hearth-scheduler"
            ),
        ]
        log.info("Hearth is running: %d campaign(s) on %s", len(self.engine.campaigns), ", ".join(self.adapters))

    async def stop(self, send_timeout: float = STOP_SEND_TIMEOUT) -> None:
        """Stop the scheduler, let sends in flight finish and be marked (at most
        ``send_timeout`` seconds), then stop the adapters and the intake."""
        sender_task = next((t for t in self._tasks if t.get_name() == "hearth-sender"), None)
        for task in self._tasks:
            if task is not sender_task:
                task.cancel()
        if sender_task is not None:
            self.sender.stop()
            done, _ = await asyncio.wait([sender_task], timeout=send_timeout)
            if not done:
                log.warning("sends still in flight after %.0fs; stopping anyway", send_timeout)
                sender_task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for adapter in self._distinct:
            await adapter.stop()
        await self.intake.stop()
        await self.db.dispose()
