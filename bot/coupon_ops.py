"""What ``hearth coupons`` does (import, export, generate, status) and the pools of ``hearth simulate``.

An import is all or nothing: malformed rows or codes that belong to another pool stop it
before anything is written; codes already in the pool and repeats within the file are
skipped and reported. Everything runs in one transaction, so a failure leaves no half import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import coupon_csv
from bot.config import Config
from storage import coupons, referrals
from storage.models import LedgerEntry

SIMULATED_STOCK = 10_000  # codes an imported pool holds in a rehearsal (the real ones stay private)


@dataclass(slots=True)
class ImportReport:
    pool: str
    imported: int = 0
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False  # ``imported`` counts what an import would add; nothing was written

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self, path: str) -> list[str]:
        out = [f"{path}:{e}" for e in self.errors] + [f"{path}:{s}" for s in self.skipped]
        if self.ok and self.dry_run:
            out.append(
                f"pool {self.pool}: dry run, nothing written: {self.imported} code(s) would be imported, "
                f"{len(self.skipped)} skipped"
            )
        elif self.ok:
            out.append(f"pool {self.pool}: {self.imported} code(s) imported, {len(self.skipped)} skipped")
        else:
            out.append(f"pool {self.pool}: nothing imported ({len(self.errors)} problem(s); fix the file and rerun)")
        return out


async def import_csv(
    db: AsyncEngine, config: Config, pool: str, text: str, now: datetime, dry_run: bool = False
) -> ImportReport:
    report = ImportReport(pool, dry_run=dry_run)
    parsed = coupon_csv.parse(text, ZoneInfo(config.bot.timezone))
    report.errors += [f"{line}: {why}" for line, why in parsed.malformed]
    report.skipped += [f"{line}: duplicate of line {first}: {code}" for line, code, first in parsed.duplicates]
    async with db.begin() as conn:
        found = await coupons.existing_codes(conn, [r.code for r in parsed.rows])
        fresh = []
        for row in parsed.rows:
            owner = found.get(row.code)
            if owner is None:
                fresh.append(row)
            elif owner == pool:
                report.skipped.append(f"{row.line}: already in pool {pool}: {row.code}")
            else:
                report.errors.append(f"{row.line}: {row.code} belongs to pool {owner}; a code can be in one pool only")
        if report.errors:
            return report
        if dry_run:
            report.imported = len(fresh)
            return report
        await coupons.add_codes(conn, pool, [(r.code, r.valid_until) for r in fresh], now)
        report.imported = len(fresh)
    return report


async def export_csv(db: AsyncEngine, now: datetime, pool: str | None = None, everything: bool = False) -> str:
    async with db.connect() as conn:
        rows = await coupons.export_rows(conn, pool, include_available=everything)
    return coupon_csv.export(rows, now)


async def generate(db: AsyncEngine, config: Config, pool: str, count: int, now: datetime) -> int:
    settings = config.coupons[pool]
    async with db.begin() as conn:
        return await coupons.generate(conn, pool, count, now, settings.prefix, settings.length)


async def status(db: AsyncEngine, config: Config, now: datetime) -> list[str]:
    async with db.connect() as conn:
        summary = await coupons.pool_summary(conn, now)
    out = []
    for pool in dict.fromkeys([*config.coupons, *summary]):
        s = summary.get(pool, {})
        defined = "" if pool in config.coupons else " (not in the config)"
        out.append(
            f"{pool}{defined}: {s.get('available', 0)} available, {s.get('assigned', 0)} given and valid, "
            f"{s.get('redeemed', 0)} redeemed, {s.get('expired', 0)} expired, {s.get('voided', 0)} voided, "
            f"{s.get('shortfall', 0)} owed while empty"
        )
    return out or ["no coupon pools"]


async def stock_for_rehearsal(db: AsyncEngine, config: Config, now: datetime) -> None:
    """Fill the in-memory database of ``hearth simulate``: generated pools as configured,
    imported pools with placeholder codes (``SIMULATED-<pool>-000001``...)."""
    async with db.begin() as conn:
        for pool, settings in config.coupons.items():
            if settings.generate:
                await coupons.top_up_generated(conn, pool, settings.generate, now, settings.prefix, settings.length)
            else:
                await coupons.stock_placeholders(conn, pool, SIMULATED_STOCK, now)


async def rehearsal_cost(db: AsyncEngine, config: Config, now: datetime) -> dict[str, dict]:
    """The owner's cost forecast: points granted per campaign (net of clawbacks); per pool the
    coupons given (and kept), withdrawn, and owed while the pool was empty; and per referral
    campaign how the tracked joins ended and why others were refused."""
    ledger = LedgerEntry.__table__.c
    async with db.connect() as conn:
        summary = await coupons.pool_summary(conn, now)
        rows = await conn.execute(
            select(ledger.campaign, func.sum(ledger.points)).group_by(ledger.campaign).order_by(ledger.campaign)
        )
        points = {campaign: int(total) for campaign, total in rows}
        joins = await referrals.campaign_summary(conn)
    pools = {}
    for pool in dict.fromkeys([*config.coupons, *summary]):
        s = summary.get(pool, {})
        pools[pool] = {"given": s.get("given", 0), "withdrawn": s.get("voided", 0), "shortfall": s.get("shortfall", 0)}
    return {"points": points, "coupons": pools, "referrals": joins}


def cost_lines(cost: dict[str, dict]) -> list[str]:
    """The forecast as ``hearth simulate`` prints it after the transcript."""
    points = ", ".join(f"{c} {p}" for c, p in cost["points"].items()) or "none"
    out = [f"cost: points granted per campaign: {points}"]
    for pool, n in cost["coupons"].items():
        out.append(
            f"cost: coupons {pool}: {n['given']} given, {n['withdrawn']} withdrawn, "
            f"{n['shortfall']} owed while the pool was empty"
        )
    for campaign, counts in cost.get("referrals", {}).items():
        out.append(f"referrals {campaign}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return out
