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


def _discord(settings: Any, db: AsyncEngine, clock: Clock) -> Adapter:
    from adapters.discord.adapter import DiscordAdapter

    return DiscordAdapter(settings, db, clock)


def _onebot(settings: Any, db: AsyncEngine, clock: Clock) -> Adapter:
    from adapters.onebot.adapter import OneBotAdapter

    return OneBotAdapter(settings, db, clock)


def _wecom(settings: Any, db: AsyncEngine, clock: Clock) -> Adapter:
    from adapters.wecom.adapter import WeComAdapter

    return WeComAdapter(settings, db, clock)


def _qq(settings: Any, db: AsyncEngine, clock: Clock) -> Adapter:
    from adapters.qq.adapter import QQAdapter

    return QQAdapter(settings, db, clock)


FACTORIES: dict[str, Factory] = {
    "sandbox": _sandbox,
    "telegram": _telegram,
    "discord": _discord,
    "onebot": _onebot,
    "qq": _qq,
    "wecom": _wecom,
}


def build_adapters(config: Config, db: AsyncEngine, clock: Clock) -> dict[str, Adapter]:
    """Each configured adapter under its table name, and also under every extra key prefix its
    settings answer to (``key_platforms()``, e.g. an OneBot bot keyed ``qq``), so the sender and
    the engine find it from a chat key's platform. Such an adapter appears more than once: its
    ``start`` and ``stop`` must be idempotent."""
    adapters: dict[str, Adapter] = {}
    for name, settings in config.platforms:
        if settings is not None:
            adapters[name] = FACTORIES[name](settings, db, clock)
            for alias in sorted(getattr(settings, "key_platforms", lambda: set())()):
                adapters.setdefault(alias, adapters[name])
    return adapters
