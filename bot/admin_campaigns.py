"""``/campaign list | status NAME | start NAME | stop NAME``: see and switch campaigns at runtime.

A switch is global (a campaign runs in all its groups or in none), so a group's admins may
switch only campaigns that run in their group alone; the others need one of ``[bot] admins``.
"""

from __future__ import annotations

from datetime import datetime

from bot.builtins import Host, Rejected, Usage, builtin, in_group, is_bot_admin
from bot.context import Context
from campaigns.base import Campaign

USAGE = "/campaign list | status NAME | start NAME | stop NAME"


def visible(ctx: Context, host: Host) -> list[Campaign]:
    """Campaigns of this group (every campaign for the bot's admins outside a group)."""
    if in_group(ctx):
        return [c for c in host.campaigns if c.applies_to(ctx.chat_key)]
    return list(host.campaigns)


def _when(ctx: Context, at: datetime) -> str:
    return at.astimezone(ctx.timezone).strftime("%Y-%m-%d %H:%M")


def state(ctx: Context, host: Host, campaign: Campaign) -> str:
    """``on``, ``off``, ``on, starts …`` or ``on, ended …`` in the caller's language."""
    c = campaign.config
    if not host.switches.enabled(campaign.name):
        return ctx.t("admin.state.off")
    if c.starts is not None and ctx.event.at < c.starts:
        return ctx.t("admin.state.waiting", at=_when(ctx, c.starts))
    if c.ends is not None and ctx.event.at > c.ends:
        return ctx.t("admin.state.ended", at=_when(ctx, c.ends))
    return ctx.t("admin.state.on")


def _find(ctx: Context, host: Host, name: str) -> Campaign:
    for campaign in visible(ctx, host):
        if campaign.name.casefold() == name.casefold():
            return campaign
    raise Rejected("admin.campaign.unknown", name=name[:60])


def _status(ctx: Context, host: Host, campaign: Campaign) -> str:
    c = host.switches.configured[campaign.name]
    switch = host.switches.state.get(campaign.name)
    if switch is not None:
        source = ctx.t("admin.campaign.switched", by=switch.by, at=_when(ctx, switch.at))
    else:
        source = ctx.t("admin.campaign.from_config")
    groups = ", ".join(c.groups) if c.groups is not None else ctx.t("admin.campaign.every_group")
    start = _when(ctx, c.starts) if c.starts else "—"
    end = _when(ctx, c.ends) if c.ends else "—"
    words = " ".join([f"/{s.name}" for s in campaign.commands()] + list(campaign.aliases())) or "—"
    return "\n".join(
        [
            ctx.t("admin.campaign.header", name=campaign.name, type=c.type),
            ctx.t("admin.campaign.state", state=state(ctx, host, campaign), source=source),
            ctx.t("admin.campaign.groups", groups=groups),
            ctx.t("admin.campaign.window", starts=start, ends=end),
            ctx.t("admin.campaign.commands", commands=words),
        ]
    )


@builtin("campaign", "cmd.campaign", USAGE, admin=True)
async def campaign_command(ctx: Context, host: Host) -> str:
    assert ctx.command is not None and ctx.member_key is not None
    args = ctx.command.args
    sub = args[0].lower() if args else ""
    if sub == "list" and len(args) == 1:
        found = visible(ctx, host)
        if not found:
            raise Rejected("admin.campaign.none")
        lines = [ctx.t("admin.campaign.list")]
        lines += [
            ctx.t("admin.campaign.line", name=c.name, type=c.config.type, state=state(ctx, host, c)) for c in found
        ]
        ctx.reply("\n".join(lines))
        return f"listed {len(found)} campaign(s)"
    if sub not in ("status", "start", "stop") or len(args) != 2:
        raise Usage()
    campaign = _find(ctx, host, args[1])
    if sub == "status":
        ctx.reply(_status(ctx, host, campaign))
        return f"status of {campaign.name}"
    on = sub == "start"
    only_here = in_group(ctx) and campaign.config.groups == [ctx.chat_key]
    if not (only_here or is_bot_admin(ctx, host)):
        raise Rejected("admin.campaign.global", name=campaign.name)
    if host.switches.enabled(campaign.name) == on:
        raise Rejected("admin.campaign.already_on" if on else "admin.campaign.already_off", name=campaign.name)
    await host.switches.set(ctx.conn, campaign.name, on, ctx.member_key, ctx.event.at)
    text = ctx.t("admin.campaign.started" if on else "admin.campaign.stopped", name=campaign.name)
    if on and not campaign.active_at(ctx.event.at):
        text += "\n" + ctx.t("admin.campaign.outside", state=state(ctx, host, campaign))
    ctx.reply(text)
    return f"{campaign.name} switched {'on' if on else 'off'}"
