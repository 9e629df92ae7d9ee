"""``/points add|remove @member N reason`` and ``/streak repair @member DATE reason``.

Both write ledger rows naming the admin's event (and the audit log names the admin), so a
member's points can always be explained row by row.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot import mentions
from bot.builtins import ADMIN, Host, Rejected, Usage, builtin, in_group
from bot.context import Context
from campaigns.checkin import CheckinCampaign
from storage import repo

MAX_POINTS = 1_000_000
MAX_REASON = 200
REPAIR_DAYS = 366  # how far back a check-in may be restored


def _number(token: mentions.Token) -> int | None:
    if not isinstance(token, str) or not token.isdecimal() or len(token) > 7:
        return None
    value = int(token)
    return value if 1 <= value <= MAX_POINTS else None


def _reason(rest: list[mentions.Token]) -> str:
    reason = mentions.words(rest).strip()
    if not reason:
        raise Usage()
    return reason[:MAX_REASON]


@builtin("points", "cmd.points", "/points add|remove @member N reason", admin=True)
async def points_command(ctx: Context, host: Host) -> str:
    if not in_group(ctx):
        raise Rejected("admin.group_only")
    assert ctx.chat_key is not None
    args = mentions.tokens(ctx)
    if len(args) < 4 or not isinstance(args[0], str) or args[0].lower() not in ("add", "remove"):
        raise Usage()
    amount = _number(args[2])
    if amount is None:
        raise Usage()
    reason = _reason(args[3:])
    member, name = await mentions.resolve(ctx, args[1])
    change = amount if args[0].lower() == "add" else -amount
    await repo.add_points(
        ctx.conn,
        member=member,
        chat=ctx.chat_key,
        campaign=ADMIN,
        points=change,
        reason=f"admin: {reason}"[:100],
        event_ref=ctx.event_ref,
        at=ctx.event.at,
    )
    total = await repo.points_of(ctx.conn, member, ctx.chat_key)
    key = "admin.points.added" if change > 0 else "admin.points.removed"
    ctx.reply(ctx.t(key, points=amount, name=name, reason=reason, total=total))
    return f"{member} {change:+d} points ({reason}); total {total}"


def _checkin_campaign(ctx: Context, host: Host) -> CheckinCampaign:
    for campaign in host.campaigns:
        if isinstance(campaign, CheckinCampaign) and campaign.applies_to(ctx.chat_key) and campaign.config.enabled:
            return campaign
    raise Rejected("admin.streak.no_checkin")


@builtin("streak", "cmd.streak", "/streak repair @member YYYY-MM-DD reason", admin=True)
async def streak_command(ctx: Context, host: Host) -> str:
    if not in_group(ctx):
        raise Rejected("admin.group_only")
    args = mentions.tokens(ctx)
    if len(args) < 4 or args[0] != "repair" or not isinstance(args[2], str):
        raise Usage()
    try:
        day = date.fromisoformat(args[2])
    except ValueError:
        raise Usage() from None
    reason = _reason(args[3:])
    today = ctx.local_day()
    if not today - timedelta(days=REPAIR_DAYS) <= day < today:
        raise Rejected("admin.streak.bad_day", date=day.isoformat())
    campaign = _checkin_campaign(ctx, host)
    member, name = await mentions.resolve(ctx, args[1])
    try:
        streak = await campaign.repair(ctx, member, day)
    except ValueError:
        raise Rejected("admin.streak.already", name=name, date=day.isoformat()) from None
    points = campaign.config.points
    ctx.reply(ctx.t("admin.streak.repaired", name=name, date=day.isoformat(), points=points, streak=streak))
    return f"{member}: check-in of {day.isoformat()} restored in {campaign.name} (+{points}); streak {streak}; {reason}"
