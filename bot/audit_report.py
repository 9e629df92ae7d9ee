"""The audit log as text: for ``/audit`` in a chat and for ``hearth audit`` on the command line."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.config import Config
from storage import audit
from storage import db as storage_db


def format_entry(entry: audit.Entry, zone: ZoneInfo) -> str:
    when = entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    args = f" {entry.args}" if entry.args else ""
    where = f" in {entry.chat}" if entry.chat else ""
    effect = f": {entry.effect}" if entry.effect else ""
    return f"#{entry.id} {when} {entry.actor}{where} /{entry.command}{args} → {entry.outcome}{effect}"


async def report(config: Config, limit: int = 50, chat: str | None = None) -> str:
    """The newest ``limit`` entries (of one chat, if given), newest first."""
    engine = storage_db.create_engine(config.bot.database)
    try:
        await storage_db.upgrade(engine)
        async with engine.connect() as conn:
            entries = await audit.recent(conn, chat, limit)
    finally:
        await engine.dispose()
    if not entries:
        return "the audit log is empty" + (f" for {chat}" if chat else "")
    zone = ZoneInfo(config.timezone_of(chat) if chat else config.bot.timezone)
    return "\n".join(format_entry(e, zone) for e in entries)
