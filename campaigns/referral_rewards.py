"""Paying a qualified referral (points, coupons, tiers, within the budget) and taking it back.

Every reward has a slot (``inviter:<id>``, ``invitee:<id>``, ``tier:<inviter>:<n>:<k>``) that
is written before anything is paid, so a replayed qualification pays nothing twice. Points go
to the ledger naming the event; a clawback appends negative rows and voids coupons not yet
redeemed; nothing is ever edited away.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot import actions as act
from bot.context import Context
from campaigns import coupon_delivery
from storage import coupons, referrals
from storage.referrals import ReferralRow, RewardRow

if TYPE_CHECKING:
    from campaigns.referral_config import ReferralConfig, Reward


async def _budget_alert(ctx: Context, config: ReferralConfig, what: str, limit: int) -> None:
    if await coupons.once(ctx.conn, f"referral:{ctx.campaign}:budget:{what}", ctx.event.at):
        text = ctx.t("referral.admin_budget", campaign=ctx.campaign, what=ctx.t(f"referral.budget.{what}"), limit=limit)
        coupon_delivery.tell_admins(ctx, text)


async def grant(
    ctx: Context,
    config: ReferralConfig,
    referral: ReferralRow,
    slot: str,
    role: str,
    member: str,
    name: str,
    reward: Reward,
) -> tuple[list[str], bool]:
    """Pay one side's reward into ``slot``; returns the lines to announce and whether the budget stopped it."""
    lines: list[str] = []
    over_budget = False
    spent_points, spent_coupons = await referrals.spent(ctx.conn, ctx.campaign)
    common = dict(campaign=ctx.campaign, referral_id=referral.id, member_key=member, role=role)
    common.update(at=ctx.event.at, event_ref=ctx.event_ref)
    if reward.points:
        limit = config.budget.points
        over = limit is not None and spent_points + reward.points > limit
        status = "over_budget" if over else "granted"
        row = dict(common, slot=f"{slot}:points", kind="points", points=0 if over else reward.points, status=status)
        if await referrals.add_reward(ctx.conn, **row):
            if over:
                over_budget = True
                await _budget_alert(ctx, config, "points", limit or 0)
            else:
                await ctx.award(reward.points, f"referral:{role}", member=member)
                lines.append(ctx.t("referral.points", points=reward.points, name=name))
    if reward.coupon_pool:
        limit = config.budget.coupons
        over = limit is not None and spent_coupons + 1 > limit
        status = "over_budget" if over else "granted"
        row = dict(common, slot=f"{slot}:coupon", kind="coupon", points=0, pool=reward.coupon_pool, status=status)
        if await referrals.add_reward(ctx.conn, **row):
            if over:
                over_budget = True
                await _budget_alert(ctx, config, "coupons", limit or 0)
            else:
                coupon = await coupon_delivery.give(ctx, reward.coupon_pool, member, name)
                values = {"coupon_id": coupon.id} if coupon else {"status": "shortfall"}
                await referrals.set_reward(ctx.conn, ctx.campaign, f"{slot}:coupon", **values)
    return lines, over_budget


async def pay(ctx: Context, config: ReferralConfig, referral: ReferralRow, inviter: str, invitee: str) -> list[str]:
    """Pay both sides and any tier the inviter just reached; returns the announcement lines."""
    lines: list[str] = []
    short = False
    for role, member, name, reward in (
        ("inviter", referral.inviter, inviter, config.inviter_reward),
        ("invitee", referral.invitee, invitee, config.invitee_reward),
    ):
        more, over = await grant(ctx, config, referral, f"{role}:{referral.id}", role, member, name, reward)
        lines += more
        short = short or over
    count = await referrals.count_by_inviter(ctx.conn, ctx.campaign, referral.inviter, ("qualified",))
    held = await referrals.tier_rewards(ctx.conn, ctx.campaign, referral.inviter)
    for tier in config.tiers:
        if count < tier.invites:
            continue
        prefix = f"tier:{referral.inviter}:{tier.invites}:"
        earlier = {r.slot.rsplit(":", 1)[0] for r in held if r.slot.startswith(prefix) and r.status != "clawed_back"}
        if earlier:
            continue
        rounds = len({r.slot.rsplit(":", 1)[0] for r in held if r.slot.startswith(prefix)})
        lines.append(ctx.t("referral.tier", name=inviter, count=tier.invites))
        more, over = await grant(ctx, config, referral, f"{prefix}{rounds}", "tier", referral.inviter, inviter, tier)
        lines += more
        short = short or over
    if short:
        lines.append(ctx.t("referral.budget_out"))
    return lines


def _tier_of(reward: RewardRow) -> int:
    # tier:<inviter key, may hold colons>:<invites>:<round>:<kind>
    return int(reward.slot.rsplit(":", 3)[1])


async def _take_back(ctx: Context, reward: RewardRow) -> bool:
    at = ctx.event.at
    if reward.kind == "points":
        await ctx.award(-reward.points, "referral:clawback", member=reward.member)
    elif reward.coupon_id is None or not await coupons.void(ctx.conn, reward.coupon_id, "referral clawback", at):
        return False  # a shortfall, or the coupon was redeemed already: nothing to take back
    else:
        coupon = await coupons.by_id(ctx.conn, reward.coupon_id)
        if coupon is not None and coupon_delivery.DIRECT_MESSAGES in ctx.features:
            key = "coupon.voided_left" if reward.role == "invitee" else "coupon.voided"
            ctx.emit(act.SendDirect(reward.member, ctx.t(key, code=coupon.code)))
    await referrals.set_reward(ctx.conn, ctx.campaign, reward.slot, status="clawed_back")
    return True


async def claw_back(ctx: Context, config: ReferralConfig, referral: ReferralRow, invitee: str, window: str) -> bool:
    """The invitee left soon after qualifying: take back what the referral paid (once)."""
    moved = await referrals.move(
        ctx.conn, referral.id, frm="qualified", to="clawed_back", at=ctx.event.at, reason="left_after_qualifying"
    )
    if not moved:
        return False
    if coupon_delivery.DIRECT_MESSAGES in ctx.features:
        ctx.emit(act.SendDirect(referral.inviter, ctx.t("referral.clawback", invitee=invitee, window=window)))
    for reward in await referrals.rewards_of_referral(ctx.conn, referral.id):
        if reward.status == "granted":
            await _take_back(ctx, reward)
    count = await referrals.count_by_inviter(ctx.conn, ctx.campaign, referral.inviter, ("qualified",))
    for reward in await referrals.tier_rewards(ctx.conn, ctx.campaign, referral.inviter):
        if reward.status == "granted" and _tier_of(reward) > count:
            await _take_back(ctx, reward)
    return True
