"""End to end: fake Discord over HTTP and WebSocket ↔ discord.py ↔ the real Hearth App."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import LedgerEntry
from tests.discord import payloads as p
from tests.discord.conftest import Discord, eventually

DEADLINE = 3.0  # Discord's: an interaction must be answered or deferred within 3 s


async def test_checkin_slash_command_is_deferred_at_once_then_answered(dc: Discord) -> None:
    app = await dc.start()
    fake = dc.fake
    assert {c["name"] for c in fake.commands[p.GUILD]} >= {"checkin", "me", "top", "help", "points"}
    d = p.slash("checkin", p.BOB)
    ident = await fake.interact(d)
    await fake.wait_for(lambda: d["token"] in fake.originals)
    assert fake.callbacks[ident] == {"type": 5}  # a public deferred reply
    assert fake.answered[ident] - fake.dispatched[ident] < DEADLINE
    assert "Bob checked in: +10 points" in fake.originals[d["token"]]["content"]
    async with app.db.connect() as conn:
        rows = (await conn.execute(select(LedgerEntry.__table__.c.member_key, LedgerEntry.__table__.c.chat_key))).all()
    assert [tuple(r) for r in rows] == [(f"discord:{p.BOB['id']}", f"discord:{p.GENERAL}")]
    await eventually(lambda: _zero(dc, app))


async def _zero(dc: Discord, app) -> bool:
    return await dc.outbox(app, "pending") == 0
