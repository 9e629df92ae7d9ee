"""1,000 members claim from a 100-code pool at the same time: exactly 100 distinct codes are
given, each to one member, on SQLite and on PostgreSQL (``FOR UPDATE SKIP LOCKED``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from storage import coupons
from storage import db as storage_db
from storage.referral_models import CouponCode

NOW = datetime(2026, 12, 1, tzinfo=UTC)
CODES, CLAIMS = 100, 1000


async def claim_race(url: str, **pool: int) -> None:
    engine = storage_db.create_engine(url, pool_timeout=600, **pool)
    try:
        await storage_db.upgrade(engine)
        async with engine.begin() as conn:
            await coupons.generate(conn, "race", CODES, NOW)
        start = asyncio.Event()

        async def claim(i: int) -> coupons.Coupon | None:
            await start.wait()  # everyone starts together
            async with engine.begin() as conn:  # one transaction per claim, as an event's would be
                return await coupons.claim(
                    conn,
                    pool="race",
                    member=f"sandbox:m{i}",
                    chat="sandbox:g1",
                    campaign="race",
                    now=NOW,
                    expires_at=None,
                    event_ref=f"test:{i}",
                )

        tasks = [asyncio.create_task(claim(i)) for i in range(CLAIMS)]
        start.set()
        results = await asyncio.gather(*tasks)
        won = [c for c in results if c is not None]
        assert len(won) == CODES
        assert len({c.code for c in won}) == CODES and len({c.member for c in won}) == CODES
        c = CouponCode.__table__.c
        async with engine.connect() as conn:
            by_status = dict((await conn.execute(select(c.status, func.count()).group_by(c.status))).all())
            holders = (await conn.execute(select(func.count(func.distinct(c.member_key))))).scalar_one()
        assert by_status == {"assigned": CODES} and holders == CODES
    finally:
        await engine.dispose()


async def test_concurrent_claims_on_sqlite(tmp_path: Path) -> None:
    await claim_race(f"sqlite+aiosqlite:///{tmp_path / 'race.db'}", pool_size=8, max_overflow=0)


async def test_concurrent_claims_on_postgresql(pg_url: str) -> None:
    await claim_race(pg_url, pool_size=20, max_overflow=0)
