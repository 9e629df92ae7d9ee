"""What ``hearth check`` prints for a valid config: platforms, groups, campaigns, next fires."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import policy_lint
from bot.config import Config
from bot.engine import build_campaigns
from bot.rules_config import RuleConfig
from bot.scheduler import next_fires
from campaigns.base import Campaign


def _sandbox_groups(config: Config) -> list[str]:
    sandbox = config.platforms.sandbox
    return [f"sandbox:{g.id}" for g in sandbox.groups] if sandbox else []


def report(config: Config, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    out = [f"{config.source}: OK"]
    platforms = [name for name, value in config.platforms if value is not None]
    out.append(f"platforms: {', '.join(platforms)}")
    known = list(dict.fromkeys([g.id for g in config.groups] + _sandbox_groups(config)))
    out.append("groups:")
    for chat in known:
        out.append(f"  {chat}  timezone {config.timezone_of(chat)}, language {config.language_of(chat)}")
    out.append("campaigns:")
    for campaign in build_campaigns(config):
        c = campaign.config
        where = ", ".join(c.groups) if c.groups is not None else "every group"
        state = "" if c.enabled else " (disabled)"
        out.append(f"  {campaign.name} ({c.type}){state}: {where}")
        commands = list(dict.fromkeys([f"/{s.name}" for s in campaign.commands()] + list(campaign.aliases())))
        if commands:
            out.append(f"    answers: {' '.join(commands)}")
        out += _fires(config, campaign, known, now)
    if config.rules:
        out.append("rules (in order):")
        out += [f"  {_rule_line(rule)}" for rule in config.rules]
    for name, settings in config.platforms:
        # What each platform's settings enable and what degrades without a permission or intent:
        # settings may define ``check_notes(config) -> list[str]``.
        if settings is not None and hasattr(settings, "check_notes"):
            notes = settings.check_notes(config)
            if notes:
                out.append(f"{name}:")
                out += [f"  {line}" for line in notes]
    out += policy_lint.report_lines(config)  # coupon pools, acknowledged platform-policy warnings
    return "\n".join(out)


def _fires(config: Config, campaign: Campaign, known: list[str], now: datetime) -> list[str]:
    """The next fires of a campaign's schedules per group, within its window; or why there are none."""
    c = campaign.config
    specs = campaign.schedules()
    if not specs:
        return []
    if not c.enabled:
        return ["    schedule: disabled, no fires (enabled = true or /campaign start turns it on)"]
    if c.ends is not None and c.ends < now:
        return [f"    schedule: ended {c.ends.strftime('%Y-%m-%d %H:%M %Z')}, no fires"]
    start = max(now, c.starts) if c.starts is not None else now
    out = []
    for spec in specs:
        for chat in c.groups if c.groups is not None else (known or [None]):
            tz = config.timezone_of(chat) if chat else config.bot.timezone
            fires = [f for f in next_fires(spec.cron, tz, start) if c.ends is None or f <= c.ends]
            shown = ", ".join(f.strftime("%a %Y-%m-%d %H:%M %Z") for f in fires)
            out.append(f"    next in {chat or 'new groups'} ({tz}): {shown or 'none before the campaign ends'}")
    return out


def _rule_line(rule: RuleConfig) -> str:
    """One keyword rule as owners wrote it: trigger, what it does, where."""
    if rule.command:
        trigger = f"/{rule.command.lstrip('/')}"
    elif rule.keywords:
        trigger = "keywords " + ", ".join(repr(k) for k in rule.keywords)
    elif rule.regex:
        trigger = f"regex {rule.regex!r}"
    else:
        trigger = "any message"
    does = [
        what
        for what, on in (
            ("reply", rule.reply is not None or bool(rule.replies)),
            (f"react {rule.react}", rule.react is not None),
            (f"{rule.points} points", rule.points > 0),
            (f"tag {rule.tag}", rule.tag is not None),
            ("delete", rule.delete),
        )
        if on
    ]
    where = ", ".join(rule.groups) if rule.groups is not None else "every group"
    admin = ", admins only" if rule.admin_only else ""
    return f"{rule.name}: {trigger} -> {', '.join(does)} ({where}{admin})"
