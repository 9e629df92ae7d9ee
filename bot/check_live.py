"""``hearth check --live``: what the database says about each platform's chats, besides the config.

Platform settings may define ``async live_notes(conn) -> list[str]`` (e.g. which QQ groups allow
proactive messages); this prints them under the platform's name. Read-only.
"""

from __future__ import annotations

from bot.config import Config
from storage import db as storage_db


async def live_report(config: Config) -> str:
    engine = storage_db.create_engine(config.bot.database)
    out = ["live state (from the database):"]
    try:
        await storage_db.upgrade(engine)
        async with engine.connect() as conn:
            for name, settings in config.platforms:
                if settings is not None and hasattr(settings, "live_notes"):
                    out.append(f"{name}:")
                    out += [f"  {line}" for line in await settings.live_notes(conn)]
    finally:
        await engine.dispose()
    if len(out) == 1:
        out.append("  no platform keeps live state")
    return "\n".join(out)
