"""Looking into a running ``App`` from end-to-end tests: outbox and processed-event counts, and
waiting for state that no request announces (rows the sender marks after a send)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select

from bot.app import App
from storage.models import OutboxMessage, ProcessedEvent


async def outbox(app: App, status: str) -> int:
    t = OutboxMessage.__table__.c
    async with app.db.connect() as conn:
        return int((await conn.execute(select(func.count()).where(t.status == status))).scalar_one())


async def processed(app: App, kind: str | None = None) -> int:
    t = ProcessedEvent.__table__.c
    q = select(func.count()).select_from(ProcessedEvent.__table__)
    if kind is not None:
        q = q.where(t.kind == kind)
    async with app.db.connect() as conn:
        return int((await conn.execute(q)).scalar_one())


async def eventually(predicate: Callable[[], Awaitable[bool]], within: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.02)
