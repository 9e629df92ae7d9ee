"""Coupon pools: codes added (imported or generated), claimed once each, redeemed, voided.

A claim is one conditional ``UPDATE ... RETURNING``: on PostgreSQL the row is picked with
``FOR UPDATE SKIP LOCKED``, so concurrent claimers never wait on or double-assign a code; on
SQLite the statement takes the database's write lock before it reads (a transaction whose
first statement is a write is effectively ``BEGIN IMMEDIATE``) and re-checks
``status = 'available'``, so two claims can never assign one code either way.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update

from storage.referral_models import CouponCode, CouponShortfall, OnceKey
from storage.sql import ignore_statement
from storage.tx import Conn

codes_t = CouponCode.__table__
shortfalls_t = CouponShortfall.__table__
once_t = OnceKey.__table__

# no 0/O, 1/I/L: codes are read aloud and typed from screenshots
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
MIN_RANDOM_CHARS = 13  # 31**13 > 2**64
CHUNK = 400


def generate_code(prefix: str = "", length: int = 16) -> str:
    """A fresh code: ``prefix`` + ``length`` random characters (>= 64 bits), grouped by four."""
    if length < MIN_RANDOM_CHARS:
        raise ValueError(f"a generated code needs at least {MIN_RANDOM_CHARS} random characters")
    body = "".join(secrets.choice(ALPHABET) for _ in range(length))
    return prefix + "-".join(body[i : i + 4] for i in range(0, length, 4))


@dataclass(frozen=True, slots=True)
class Coupon:
    id: int
    pool: str
    code: str
    status: str  # available, assigned, redeemed, voided (see :meth:`state` for expiry)
    member: str | None
    campaign: str | None
    assigned_at: datetime | None
    expires_at: datetime | None
    redeemed_at: datetime | None
    redeemed_by: str | None
    voided_at: datetime | None
    void_reason: str | None

    def state(self, now: datetime) -> str:
        """The status a person cares about: ``expired`` for an assigned code past its expiry."""
        if self.status == "assigned" and self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return self.status


def _coupon(row: Any) -> Coupon:
    return Coupon(
        row.id,
        row.pool,
        row.code,
        row.status,
        row.member_key,
        row.campaign,
        row.assigned_at,
        row.expires_at,
        row.redeemed_at,
        row.redeemed_by,
        row.voided_at,
        row.void_reason,
    )


# --- adding codes ---------------------------------------------------------------------------


async def existing_codes(conn: Conn, codes: Iterable[str]) -> dict[str, str]:
    """Which of ``codes`` are stored already: code -> pool."""
    found: dict[str, str] = {}
    items = list(dict.fromkeys(codes))
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        rows = await conn.execute(select(codes_t.c.code, codes_t.c.pool).where(codes_t.c.code.in_(chunk)))
        found.update({r.code: r.pool for r in rows})
    return found


async def add_codes(
    conn: Conn,
    pool: str,
    codes: Sequence[tuple[str, datetime | None]],
    now: datetime,
    source: str = "imported",
) -> None:
    """Insert new available codes (``(code, valid_until)``); a duplicate fails the transaction."""
    rows = [
        dict(pool=pool, code=code, status="available", source=source, added_at=now, valid_until=until)
        for code, until in codes
    ]
    for start in range(0, len(rows), CHUNK):
        await conn.execute(codes_t.insert(), rows[start : start + CHUNK])


async def generate(conn: Conn, pool: str, count: int, now: datetime, prefix: str = "", length: int = 16) -> int:
    """Add ``count`` generated codes; returns how many were added."""
    fresh: set[str] = set()
    while len(fresh) < count:
        want = count - len(fresh)
        batch = {generate_code(prefix, length) for _ in range(want)}
        taken = await existing_codes(conn, batch)  # 64+ random bits: practically never
        fresh |= batch - set(taken)
    await add_codes(conn, pool, [(code, None) for code in sorted(fresh)], now, source="generated")
    return count


async def once(conn: Conn, key: str, now: datetime) -> bool:
    """True the first time ``key`` is seen (across processes and restarts), False after."""
    result = await conn.execute(ignore_statement(conn.dialect.name, once_t), dict(key=key, at=now))
    return bool(result.rowcount)


async def top_up_generated(conn: Conn, pool: str, target: int, now: datetime, prefix: str, length: int) -> int:
    """Make sure a generated pool has had ``target`` codes generated, once per target."""
    if target <= 0 or not await once(conn, f"coupons:{pool}:generated:{target}", now):
        return 0
    c = codes_t.c
    have = await conn.execute(select(func.count()).where(c.pool == pool, c.source == "generated"))
    missing = target - int(have.scalar_one())
    return await generate(conn, pool, missing, now, prefix, length) if missing > 0 else 0


# --- claiming ---------------------------------------------------------------------------------


async def claim(
    conn: Conn,
    *,
    pool: str,
    member: str,
    chat: str | None,
    campaign: str,
    now: datetime,
    expires_at: datetime | None,
    event_ref: str,
) -> Coupon | None:
    """Assign one available, unexpired code of ``pool`` to ``member``; None when none is left.

    The member's expiry is ``expires_at`` or the code's own ``valid_until``, whichever is first.
    """
    c = codes_t.c
    pick = (
        select(c.id)
        .where(c.pool == pool, c.status == "available", or_(c.valid_until.is_(None), c.valid_until > now))
        .order_by(c.id)
        .limit(1)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite renders no locking clause
        .scalar_subquery()
    )
    stmt = (
        update(codes_t)
        .where(c.id == pick, c.status == "available")
        .values(
            status="assigned",
            member_key=member,
            chat_key=chat,
            campaign=campaign,
            assigned_at=now,
            expires_at=expires_at,
            event_ref=event_ref,
        )
        .returning(c.id, c.valid_until)
    )
    row = (await conn.execute(stmt)).first()
    if row is None:
        return None
    if row.valid_until is not None and (expires_at is None or row.valid_until < expires_at):
        await conn.execute(update(codes_t).where(c.id == row.id).values(expires_at=row.valid_until))
    return await by_id(conn, row.id)


async def by_id(conn: Conn, coupon_id: int) -> Coupon | None:
    row = (await conn.execute(select(codes_t).where(codes_t.c.id == coupon_id))).first()
    return _coupon(row) if row else None


async def by_code(conn: Conn, code: str) -> Coupon | None:
    """The coupon with this code, matched exactly, then ignoring case."""
    c = codes_t.c
    row = (await conn.execute(select(codes_t).where(c.code == code))).first()
    if row is None:
        row = (await conn.execute(select(codes_t).where(func.upper(c.code) == code.upper()).limit(1))).first()
    return _coupon(row) if row else None


async def of_member(conn: Conn, member: str, campaign: str | None = None) -> list[Coupon]:
    c = codes_t.c
    q = select(codes_t).where(c.member_key == member)
    if campaign is not None:
        q = q.where(c.campaign == campaign)
    return [_coupon(r) for r in await conn.execute(q.order_by(c.assigned_at, c.id))]


async def available(conn: Conn, pool: str, now: datetime) -> int:
    c = codes_t.c
    q = select(func.count()).where(
        c.pool == pool, c.status == "available", or_(c.valid_until.is_(None), c.valid_until > now)
    )
    return int((await conn.execute(q)).scalar_one())


async def total(conn: Conn, pool: str) -> int:
    return int((await conn.execute(select(func.count()).where(codes_t.c.pool == pool))).scalar_one())


# --- after assignment -----------------------------------------------------------------------------


async def redeem(conn: Conn, coupon_id: int, by: str, now: datetime) -> bool:
    """Mark an assigned, unexpired coupon redeemed; False if it was not (any more)."""
    c = codes_t.c
    stmt = (
        update(codes_t)
        .where(c.id == coupon_id, c.status == "assigned", or_(c.expires_at.is_(None), c.expires_at > now))
        .values(status="redeemed", redeemed_at=now, redeemed_by=by)
    )
    return bool((await conn.execute(stmt)).rowcount)


async def void(conn: Conn, coupon_id: int, reason: str, now: datetime) -> bool:
    """Withdraw an assigned coupon that was not redeemed; False if it was redeemed (or gone)."""
    c = codes_t.c
    stmt = (
        update(codes_t)
        .where(c.id == coupon_id, c.status == "assigned")
        .values(status="voided", voided_at=now, void_reason=reason[:60])
    )
    return bool((await conn.execute(stmt)).rowcount)


async def record_shortfall(
    conn: Conn, *, pool: str, member: str, chat: str | None, campaign: str, now: datetime, event_ref: str
) -> None:
    row = dict(pool=pool, member_key=member, chat_key=chat, campaign=campaign, at=now, event_ref=event_ref)
    await conn.execute(shortfalls_t.insert(), [row])


# --- reports ------------------------------------------------------------------------------------


async def export_rows(conn: Conn, pool: str | None = None, include_available: bool = False) -> list[Coupon]:
    c = codes_t.c
    q = select(codes_t)
    if pool is not None:
        q = q.where(c.pool == pool)
    if not include_available:
        q = q.where(c.status != "available")
    return [_coupon(r) for r in await conn.execute(q.order_by(c.pool, c.id))]


async def pool_summary(conn: Conn, now: datetime) -> dict[str, dict[str, int]]:
    """Per pool: codes available, assigned (still valid), redeemed, expired, voided and shortfalls."""
    c = codes_t.c
    out: dict[str, dict[str, int]] = {}

    def slot(pool: str) -> dict[str, int]:
        return out.setdefault(
            pool, dict(available=0, assigned=0, redeemed=0, expired=0, voided=0, shortfall=0, given=0)
        )

    expired = (c.status == "assigned") & c.expires_at.is_not(None) & (c.expires_at <= now)
    rows = await conn.execute(
        select(c.pool, c.status, expired.label("expired"), func.count()).group_by(c.pool, c.status, expired)
    )
    for pool, status, is_expired, count in rows:
        key = "expired" if status == "assigned" and is_expired else status
        slot(pool)[key] += int(count)
    s = shortfalls_t.c
    for pool, count in await conn.execute(select(s.pool, func.count()).group_by(s.pool)):
        slot(pool)["shortfall"] += int(count)
    for counts in out.values():  # given and kept: a withdrawn (voided) coupon cost nothing
        counts["given"] = counts["assigned"] + counts["redeemed"] + counts["expired"]
    return out


async def stock_placeholders(conn: Conn, pool: str, count: int, now: datetime) -> None:
    """Fill a pool with clearly fake codes (``SIMULATED-<pool>-000001``) for ``hearth simulate``."""
    codes = [(f"SIMULATED-{pool}-{i:06d}", None) for i in range(1, count + 1)]
    await add_codes(conn, pool, codes, now, source="simulated")


def expiry_for(now: datetime, valid_for: timedelta | None, pool_ends: datetime | None) -> datetime | None:
    """When a coupon given now expires: ``valid_for`` after now, capped by the pool's end."""
    ends = [t for t in (now + valid_for if valid_for else None, pool_ends) if t is not None]
    return min(ends) if ends else None
