"""``/coupons status``: how full each coupon pool is (the same numbers as ``hearth coupons status``)."""

from __future__ import annotations

from bot.builtins import Host, Rejected, Usage, builtin
from bot.context import Context
from storage import coupons


@builtin("coupons", "cmd.coupons", "/coupons status", admin=True, private=True)
async def coupons_command(ctx: Context, host: Host) -> str:
    assert ctx.command is not None
    if [a.lower() for a in ctx.command.args] != ["status"]:
        raise Usage()
    summary = await coupons.pool_summary(ctx.conn, ctx.event.at)
    pools = list(dict.fromkeys([*getattr(host.config, "coupons", {}), *summary]))
    if not pools:
        raise Rejected("admin.coupons.none")
    lines = [ctx.t("admin.coupons.header")]
    for pool in pools:
        s = summary.get(pool, {})
        settings = getattr(host.config, "coupons", {}).get(pool)
        low = settings.low_threshold if settings is not None else 0
        key = "admin.coupons.low" if s.get("available", 0) <= low else "admin.coupons.line"
        lines.append(
            ctx.t(
                key,
                pool=pool,
                available=s.get("available", 0),
                given=s.get("assigned", 0),
                redeemed=s.get("redeemed", 0),
                expired=s.get("expired", 0),
                owed=s.get("shortfall", 0),
            )
        )
    ctx.reply("\n".join(lines))
    return "; ".join(f"{p}: {summary.get(p, {}).get('available', 0)} available" for p in pools)
