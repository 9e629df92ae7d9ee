"""Which adapter serves which ``[platforms.*]`` table: the only place that names them all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import Adapter
from bot.clock import Clock
from bot.config import Config

Factory = Callable[[Any, AsyncEngine, Clock], Adapter]


def _sandbox(settings: Any, db: AsyncEngine, clock: Clock) -> Adapter:
    from adapters.sandbox import SandboxAdapter

    return SandboxAdapter(settings, db, clock)


def _telegram(settings: Any, db: AsyncEngine, clock: Clock) -> Adapter:
    from adapters.telegram.adapter import TelegramAdapter

    return TelegramAdapter(settings, db, clock)


FACTORIES: dict[str, Factory] = {"sandbox": _sandbox, "telegram": _telegram}


def build_adapters(config: Config, db: AsyncEngine, clock: Clock) -> dict[str, Adapter]:
    adapters: dict[str, Adapter] = {}
    for name, settings in config.platforms:
        if settings is not None:
            adapters[name] = FACTORIES[name](settings, db, clock)
    return adapters
