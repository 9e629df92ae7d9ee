"""``/stats`` (the group's last 7 days) and ``/audit [N]`` (the newest admin commands)."""

from __future__ import annotations

from datetime import timedelta

from bot.audit_report import format_entry
from bot.builtins import Host, Rejected, Usage, builtin, in_group
from bot.context import Context
from storage import activity, audit, campaign_stats, chat_permissions

DAYS = 7
MAX_AUDIT = 50


@builtin("stats", "cmd.stats", "/stats", admin=True, private=True)
async def stats_command(ctx: Context, host: Host) -> str:
    if not in_group(ctx):
        raise Rejected("admin.group_only")
    assert ctx.chat_key is not None
    since = ctx.event.at - timedelta(days=DAYS)
    since_day = ctx.local_day() - timedelta(days=DAYS - 1)
    a = await activity.chat_activity(ctx.conn, ctx.chat_key, since, since_day)
    share = round(100 * a.active / a.members) if a.members else 0
    lines = [
        ctx.t("admin.stats.header", group=ctx.group_title or ctx.chat_key, days=DAYS),
        ctx.t("admin.stats.members", members=a.members, joins=a.joins, leaves=a.leaves),
        ctx.t("admin.stats.active", active=a.active, share=share),
        ctx.t("admin.stats.checkins", checkins=a.checkins, people=a.checkin_members),
    ]
    if a.verification:
        v = a.verification
        lines.append(
            ctx.t(
                "admin.stats.verification",
                passed=v.get("passed", 0),
                failed=v.get("failed", 0) + v.get("kicked", 0),
                waiting=v.get("pending", 0),
            )
        )
    lines += _results(ctx, await campaign_stats.campaign_results(ctx.conn, ctx.chat_key, since))
    if a.campaigns:
        lines.append(ctx.t("admin.stats.campaigns"))
        for r in a.campaigns:
            lines.append(ctx.t("admin.stats.campaign", campaign=r.campaign, points=r.points, entries=r.entries))
    for name, allowed in await chat_permissions.of_chat(ctx.conn, ctx.chat_key):  # what the platform allows here
        state = ctx.t("permission.allowed" if allowed else "permission.refused")
        lines.append(ctx.t("admin.stats.permission", permission=_permission(ctx, name), state=state))
    ctx.reply("\n".join(lines))
    return (
        f"members {a.members}, joins {a.joins}, leaves {a.leaves}, active {a.active}, "
        f"check-ins {a.checkins}, campaigns {len(a.campaigns)}"
    )


def _results(ctx: Context, r: campaign_stats.CampaignResults) -> list[str]:
    """The campaigns' results: the referral funnel, coupons, quizzes and polls (only those that ran)."""
    out = []
    if r.referrals:
        n = r.referrals
        qualified, pending = n.get("qualified", 0), n.get("pending", 0)
        joined = sum(n.values())
        other = joined - qualified - pending  # refused, left before qualifying, clawed back
        out.append(ctx.t("admin.stats.referrals", joined=joined, qualified=qualified, pending=pending, other=other))
    if r.coupons:
        out.append(ctx.t("admin.stats.coupons", coupons=r.coupons))
    if r.quizzes:
        out.append(ctx.t("admin.stats.quizzes", runs=r.quizzes, players=r.quiz_players))
    if r.polls:
        out.append(ctx.t("admin.stats.polls", polls=r.polls, votes=r.poll_votes))
    return out


def _permission(ctx: Context, name: str) -> str:
    try:
        return ctx.t(f"permission.{name}")
    except KeyError:
        return name


@builtin("audit", "cmd.audit", "/audit [N]", admin=True, private=True)
async def audit_command(ctx: Context, host: Host) -> str:
    assert ctx.command is not None
    args = ctx.command.args
    if len(args) > 1 or (args and not (args[0].isdecimal() and len(args[0]) <= 2 and 1 <= int(args[0]) <= MAX_AUDIT)):
        raise Usage()
    limit = int(args[0]) if args else 10
    chat = ctx.chat_key if in_group(ctx) else None  # outside a group: the bot's admins see every chat
    entries = await audit.recent(ctx.conn, chat, limit)
    if not entries:
        ctx.reply(ctx.t("admin.audit.empty"))
        return "audit log shown (empty)"
    lines = [ctx.t("admin.audit.header", count=len(entries))]
    lines += [format_entry(e, ctx.timezone) for e in entries]
    ctx.reply("\n".join(lines))
    return f"audit log shown ({len(entries)} entries)"
