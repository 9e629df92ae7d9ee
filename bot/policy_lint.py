"""``hearth check``'s platform-policy lint for campaigns that reward bringing people in.

Some platforms forbid rewarding invites or shares. Hearth rewards attributed, qualified joins
(never shares), but even that is named by the rules below, so such a campaign running on one
of these platforms is refused unless the owner sets ``acknowledge_platform_policy = true``,
after which ``hearth check`` still prints the warning. The lint applies to every campaign
type that has an ``acknowledge_platform_policy`` key (referral, and later share-reward
types). It also checks that every coupon pool a campaign names is defined.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from bot.config import Config
from bot.config_types import format_duration
from bot.events import split_key

Finding = tuple[tuple[str | int, ...], str]

RULES: dict[str, str] = {
    "discord": (
        "Discord's Platform Manipulation Policy names “invite rewards” (rewarding members for bringing "
        "others in) as artificially inflating a server; servers doing it may be removed"
    ),
    "wechat": (
        "WeChat's external-link content rules (微信外部链接内容管理规范) ban inducing shares or invites "
        "with coupons, points or prizes (诱导分享); groups and accounts doing it are restricted"
    ),
    "wecom": (
        "WeCom customer groups are WeChat groups: WeChat's external-link content rules "
        "(微信外部链接内容管理规范) ban inducing shares or invites with coupons, points or prizes (诱导分享)"
    ),
}


def _platforms(config: Config, campaign: Any) -> list[str]:
    """The platforms (key prefixes) a campaign runs on: its groups', or every configured one,
    including those a platform answers to besides its name (an OneBot bridge keyed ``wechat``)."""
    if campaign.groups is not None:
        return sorted({split_key(chat)[0] for chat in campaign.groups})
    names: set[str] = set()
    for name, value in config.platforms:
        if value is not None:
            names |= {name, *getattr(value, "key_platforms", lambda: set())()}
    return sorted(names)


def _flagged(config: Config) -> Iterator[tuple[str, Any, str]]:
    for name, campaign in config.campaigns.items():
        if campaign.enabled and hasattr(campaign, "acknowledge_platform_policy"):
            for platform in _platforms(config, campaign):
                if platform in RULES:
                    yield name, campaign, platform


def findings(config: Config) -> list[Finding]:
    """Errors: unacknowledged policy conflicts and coupon pools that are not defined."""
    out: list[Finding] = []
    for name, campaign, platform in _flagged(config):
        if not campaign.acknowledge_platform_policy:
            out.append(
                (
                    ("campaigns", name, "type"),
                    f"a {campaign.type} campaign on {platform}: {RULES[platform]}. Hearth refuses to run it there "
                    "unless you set acknowledge_platform_policy = true (or limit `groups` to other platforms)",
                )
            )
    pools = getattr(config, "coupons", {})
    for name, campaign in config.campaigns.items():
        for pool in getattr(campaign, "pools", lambda: [])():
            if pool not in pools:
                out.append((("campaigns", name), f"coupon pool {pool!r} is not defined; add a [coupons.{pool}] table"))
    return out


def warnings(config: Config) -> list[str]:
    """What ``hearth check`` prints for acknowledged policy conflicts."""
    return [
        f"campaign {name!r} rewards invites on {platform} (acknowledged): {RULES[platform]}"
        for name, campaign, platform in _flagged(config)
        if campaign.acknowledge_platform_policy
    ]


def _span(value: timedelta) -> str:
    """A validity as owners write it: ``30d`` rather than ``4w2d``."""
    seconds = int(value.total_seconds())
    return f"{seconds // 86400}d" if seconds and seconds % 86400 == 0 else format_duration(value)


def report_lines(config: Config) -> list[str]:
    """``hearth check``'s lines for coupon pools and acknowledged policy warnings."""
    out: list[str] = []
    pools = getattr(config, "coupons", {})
    if pools:
        out.append("coupon pools:")
        for name, pool in pools.items():
            source = f"{pool.generate} generated codes" if pool.generate else "codes from `hearth coupons import`"
            expiry = f", valid for {_span(pool.valid_for)}" if pool.valid_for else ""
            out.append(f"  {name}: {source}{expiry}, admins told below {pool.low_threshold} left")
    out += [f"warning: {line}" for line in warnings(config)]
    return out
