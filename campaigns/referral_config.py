"""The ``type = "referral"`` config table: qualification, rewards, tiers, caps, budget, clawback.

Example (see ``examples/referral.toml`` and ``docs/referral.md``)::

    [campaigns.bring_a_friend]
    type = "referral"
    qualify_after = "24h"
    qualify_messages = 1
    inviter_reward = { points = 50, coupon_pool = "friend10" }
    invitee_reward = { coupon_pool = "welcome5" }
    tiers = [ { invites = 5, coupon_pool = "vip20" } ]
    max_rewards_per_inviter = 20
    budget = { coupons = 500 }
    clawback_on_leave = "7d"
    require_exact_attribution = true
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot import i18n
from bot.config_types import Duration, Points, Strict
from bot.coupon_config import PoolName
from campaigns.base import CampaignConfig


class Reward(Strict):
    points: Points = 0
    coupon_pool: PoolName | None = None


class Tier(Reward):
    invites: int = Field(ge=1, le=100_000)

    @model_validator(mode="after")
    def _something(self) -> Tier:
        if not self.points and not self.coupon_pool:
            raise ValueError("a tier needs points or a coupon_pool")
        return self


class Budget(Strict):
    coupons: int | None = Field(default=None, ge=0)
    points: int | None = Field(default=None, ge=0)


class ReferralConfig(CampaignConfig):
    type: Literal["referral"]
    qualify_after: Duration = timedelta(hours=24)
    qualify_messages: int = Field(default=1, ge=0, le=1000)
    inviter_reward: Reward = Reward()
    invitee_reward: Reward = Reward()
    tiers: list[Tier] = []
    max_rewards_per_inviter: int | None = Field(default=None, ge=1, le=100_000)
    budget: Budget = Budget()
    clawback_on_leave: Duration | None = None  # leaving this soon after qualifying takes the rewards back
    require_exact_attribution: bool = True
    acknowledge_platform_policy: bool = False  # see bot/policy_lint.py
    announce: bool = True  # post "X joined through Y's invite" in the group on qualification

    @field_validator("qualify_after")
    @classmethod
    def _bounded(cls, value: timedelta) -> timedelta:
        if value > timedelta(days=90):
            raise ValueError("qualify_after may be at most 90 days")
        return value

    @field_validator("clawback_on_leave")
    @classmethod
    def _zero_is_off(cls, value: timedelta | None) -> timedelta | None:
        return value if value else None

    @field_validator("tiers")
    @classmethod
    def _distinct(cls, value: list[Tier]) -> list[Tier]:
        counts = [t.invites for t in value]
        if len(set(counts)) != len(counts):
            raise ValueError("two tiers have the same number of invites")
        return sorted(value, key=lambda t: t.invites)

    def pools(self) -> list[str]:
        rewards = [self.inviter_reward, self.invitee_reward, *self.tiers]
        return list(dict.fromkeys(r.coupon_pool for r in rewards if r.coupon_pool))


def span(language: str, value: timedelta) -> str:
    """A qualification window as people say it: ``1 day(s)``, ``6 h``, ``90 min``."""
    seconds = int(value.total_seconds())
    if seconds and seconds % 86400 == 0:
        return i18n.t(language, "referral.span.days", n=seconds // 86400)
    if seconds and seconds % 3600 == 0:
        return i18n.t(language, "referral.span.hours", n=seconds // 3600)
    return i18n.duration(language, seconds)
