"""Checks across the whole config that no single field can make (run by ``config.parse``).

Each finding is ``(location, message)``; the location is a TOML path, so the error can
name the line. ``parse`` runs these on the tables that validated even when others did not,
so one run of ``hearth check`` reports everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot import policy_lint
from bot.commands import normalize_alias
from bot.config import Config
from bot.config_errors import Problem
from bot.events import split_key
from campaigns.base import REGISTRY, CampaignConfig

Finding = tuple[tuple[str | int, ...], str]
_NAME = re.compile(r"[A-Za-z0-9_-]{1,60}")


def configured_platforms(config: Config) -> set[str]:
    """The key prefixes the configured platforms answer to.

    A platform's settings may answer to more than its table name (an OneBot bridge keyed
    ``qq`` or ``wechat``) by defining ``key_platforms() -> set[str]``.
    """
    names: set[str] = set()
    for name, value in config.platforms:
        if value is not None:
            names.add(name)
            names |= set(getattr(value, "key_platforms", lambda: set())())
    return names


def check(config: Config) -> list[Finding | Problem]:
    return [
        *_platforms(config),
        *_groups(config),
        *_campaigns(config),
        *_commands(config),
        *_files(config),
        *policy_lint.findings(config),
    ]


def _platforms(config: Config) -> Iterator[Finding]:
    if not configured_platforms(config):
        yield ("platforms",), "no platform is configured; add [platforms.sandbox] to try Hearth locally"
    for _name, value in config.platforms:
        # A platform's own checks across the config (e.g. campaigns its groups cannot run):
        # settings may define ``findings(config) -> Iterable[Finding]`` with root-relative paths.
        if value is not None and hasattr(value, "findings"):
            yield from value.findings(config)


def _platform_of(key: str, platforms: set[str]) -> str | None:
    """A message when the platform of ``key`` is not configured."""
    platform = split_key(key)[0]
    if platform in platforms:
        return None
    have = ", ".join(sorted(platforms)) or "none"
    return f"platform {platform!r} of {key} is not configured (configured: {have}); add [platforms.{platform}]"


def _groups(config: Config) -> Iterator[Finding]:
    platforms = configured_platforms(config)
    first: dict[str, int] = {}
    for i, group in enumerate(config.groups):
        if (problem := _platform_of(group.id, platforms)) is not None:
            yield ("groups", i, "id"), problem
        if group.id in first:
            yield ("groups", i, "id"), f"group {group.id} is already configured in groups[{first[group.id]}]"
        first.setdefault(group.id, i)


def _campaigns(config: Config) -> Iterator[Finding]:
    platforms = configured_platforms(config)
    for name, campaign in config.campaigns.items():
        if not _NAME.fullmatch(name):
            yield ("campaigns", name), f"campaign name {name!r} may use letters, digits, _ and - only (up to 60)"
        if campaign.groups == []:
            yield ("campaigns", name, "groups"), "an empty list runs the campaign nowhere; omit it for every group"
        for i, chat in enumerate(campaign.groups or []):
            if (problem := _platform_of(chat, platforms)) is not None:
                yield ("campaigns", name, "groups", i), problem
        for key in ("starts", "ends"):
            value = getattr(campaign, key)
            if value is not None and value.tzinfo is None:
                yield ("campaigns", name, key), "give a UTC offset, e.g. 2026-12-01T00:00:00+08:00"
        starts, ends = campaign.starts, campaign.ends
        if starts and ends and (starts.tzinfo is None) == (ends.tzinfo is None) and ends <= starts:
            yield ("campaigns", name, "ends"), f"ends ({ends.isoformat()}) is not after starts ({starts.isoformat()})"


def _commands(config: Config) -> Iterator[Finding]:
    """Two campaigns may not answer the same command (or alias) in the same group.

    Aliases compare as the engine matches them (case-folded, NFKC); the error points at the
    alias, or else at the campaign's ``groups``.
    """
    owners: dict[str, list[tuple[str, CampaignConfig]]] = {}
    for name, campaign_config in config.campaigns.items():
        if not campaign_config.enabled:
            continue
        campaign = REGISTRY[campaign_config.type](name, campaign_config)
        listed = getattr(campaign_config, "aliases", None)
        words: dict[str, tuple[str, tuple[str | int, ...] | None]] = {}
        shared = {f"/{c.name}" for c in campaign.commands() if c.shared}
        for c in campaign.commands():
            words.setdefault(f"/{c.name}", (f"command '/{c.name}'", None))
        for alias in campaign.aliases():
            where = ("aliases", listed.index(alias)) if isinstance(listed, list) and alias in listed else None
            words.setdefault(normalize_alias(alias), (f"alias {alias!r}", where))
        for word, (what, where) in words.items():
            clash = next(
                (
                    other
                    for other, theirs in owners.get(word, [])
                    if _overlap(campaign_config, theirs)
                    and not (word in shared and theirs.type == campaign_config.type)
                ),
                None,
            )
            if clash is not None:
                tail = where or (("groups",) if campaign_config.groups is not None else ())
                yield ("campaigns", name, *tail), f"{what} is also answered by campaign {clash!r} in the same group"
            owners.setdefault(word, []).append((name, campaign_config))


def _files(config: Config) -> Iterator[Finding | Problem]:
    """Each campaign type's own checks, e.g. its question bank files (located in those files)."""
    for name, campaign_config in config.campaigns.items():
        yield from REGISTRY[campaign_config.type].config_problems(name, config)  # type: ignore[misc]


def _overlap(a: CampaignConfig, b: CampaignConfig) -> bool:
    """Whether two campaigns can be live in the same group at the same time."""
    if a.groups is not None and b.groups is not None and not set(a.groups) & set(b.groups):
        return False
    try:
        return not ((a.ends and b.starts and a.ends < b.starts) or (b.ends and a.starts and b.ends < a.starts))
    except TypeError:  # a naive date-time, reported on its own
        return True
