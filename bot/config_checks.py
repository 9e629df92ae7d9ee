"""Checks across the whole config that no single field can make (run by ``config.parse``)."""

from __future__ import annotations

from collections.abc import Iterator

from bot.config import Config
from bot.events import split_key
from campaigns.base import REGISTRY

Finding = tuple[tuple[str | int, ...], str]


def configured_platforms(config: Config) -> set[str]:
    return {name for name, value in config.platforms if value is not None}


def check(config: Config) -> list[Finding]:
    return [*_platforms(config), *_groups(config), *_commands(config)]


def _platforms(config: Config) -> Iterator[Finding]:
    if not configured_platforms(config):
        yield ("platforms",), "no platform is configured; add [platforms.sandbox] to try Hearth locally"


def _groups(config: Config) -> Iterator[Finding]:
    platforms = configured_platforms(config)
    for i, group in enumerate(config.groups):
        if split_key(group.id)[0] not in platforms:
            yield ("groups", i, "id"), f"platform {split_key(group.id)[0]!r} of {group.id} is not configured"
    for name, campaign in config.campaigns.items():
        for i, chat in enumerate(campaign.groups or []):
            if split_key(chat)[0] not in platforms:
                yield ("campaigns", name, "groups", i), f"platform of {chat} is not configured"
        if campaign.starts and campaign.ends and campaign.ends <= campaign.starts:
            yield ("campaigns", name, "ends"), "ends before it starts"
        for key in ("starts", "ends"):
            value = getattr(campaign, key)
            if value is not None and value.tzinfo is None:
                yield ("campaigns", name, key), "give a UTC offset, e.g. 2026-12-01T00:00:00+08:00"


def _commands(config: Config) -> Iterator[Finding]:
    """Two campaigns may not answer the same command (or alias) in the same group."""
    owners: dict[str, tuple[str, list[str] | None]] = {}
    for name, campaign_config in config.campaigns.items():
        if not campaign_config.enabled:
            continue
        campaign = REGISTRY[campaign_config.type](name, campaign_config)
        words = {c.name for c in campaign.commands()} | set(campaign.aliases())
        for word in words:
            if word in owners:
                other, other_groups = owners[word]
                mine = campaign_config.groups
                if mine is None or other_groups is None or set(mine) & set(other_groups):
                    yield (
                        ("campaigns", name),
                        f"command or alias {word!r} is also answered by campaign {other!r} in the same group",
                    )
            else:
                owners[word] = (name, campaign_config.groups)
