"""``hearth stats``: what the engine and sender have done, and what failed for good."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.config import Config
from storage import db as storage_db
from storage.models import LedgerEntry, Member, OutboxMessage, ProcessedEvent
from storage.wecom_models import WeComBroadcast


async def summary(config: Config) -> str:
    engine = storage_db.create_engine(config.bot.database)
    try:
        await storage_db.upgrade(engine)
        async with engine.connect() as conn:
            ev = ProcessedEvent.__table__.c
            events = (await conn.execute(select(func.count()).select_from(ProcessedEvent.__table__))).scalar_one()
            failed = (await conn.execute(select(func.count()).where(ev.error.is_not(None)))).scalar_one()
            members = (await conn.execute(select(func.count()).select_from(Member.__table__))).scalar_one()
            points = (
                await conn.execute(select(func.coalesce(func.sum(LedgerEntry.__table__.c.points), 0)))
            ).scalar_one()
            ob = OutboxMessage.__table__.c
            by_status = dict((await conn.execute(select(ob.status, func.count()).group_by(ob.status))).all())
            wc = WeComBroadcast.__table__.c  # staff-confirmed WeCom broadcasts (adapters/wecom)
            casts = dict((await conn.execute(select(wc.status, func.count()).group_by(wc.status))).all())
            failures = (
                await conn.execute(
                    select(ob.id, ob.target, ob.action, ob.error)
                    .where(ob.status == "failed")
                    .order_by(ob.id.desc())
                    .limit(10)
                )
            ).all()
    finally:
        await engine.dispose()
    lines = [
        f"events processed: {events} ({failed} failed in a handler)",
        f"members: {members}, points granted: {points}",
        "outbox: " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())) if by_status else "outbox: empty",
    ]
    if casts:
        names = {"pending": "waiting for the owner", "sent": "sent", "not_sent": "not sent", "over_cap": "over the cap"}
        lines.append("WeCom broadcasts: " + ", ".join(f"{names.get(k, k)} {v}" for k, v in sorted(casts.items())))
    if failures:
        lines.append("permanent send failures (newest first):")
        lines += [f"  #{r.id} {r.action} to {r.target}: {r.error}" for r in failures]
    return "\n".join(lines)
