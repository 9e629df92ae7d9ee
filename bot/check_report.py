"""What ``hearth check`` prints for a valid config: platforms, groups, campaigns, next fires."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import policy_lint
from bot.config import Config
from bot.engine import build_campaigns
from bot.scheduler import next_fires


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
        for spec in campaign.schedules():
            targets = c.groups if c.groups is not None else (known or [None])
            for chat in targets:
                tz = config.timezone_of(chat) if chat else config.bot.timezone
                fires = ", ".join(f.strftime("%a %Y-%m-%d %H:%M %Z") for f in next_fires(spec.cron, tz, now))
                out.append(f"    next in {chat or 'new groups'} ({tz}): {fires or 'never'}")
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
