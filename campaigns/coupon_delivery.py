"""Handing out coupons from ``[coupons.<pool>]`` and the coupon commands, for any campaign.

A coupon is claimed in the event's transaction and delivered by direct message where the
platform has them (if the message cannot be delivered, a notice in the group without the
code asks the member to open a chat with the bot), otherwise by that group notice alone.
An empty pool gives the member an honest answer and records a shortfall; a pool running
low, or running out, is reported to the admins once.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot import actions as act
from bot.context import Context
from bot.events import split_key
from storage import coupons, referrals
from storage.coupons import Coupon

if TYPE_CHECKING:
    from bot.coupon_config import CouponPoolConfig

DIRECT_MESSAGES = "direct_messages"  # adapters.base.Feature values (campaigns never import adapters)


def _date(ctx: Context, when: datetime) -> str:
    return when.astimezone(ctx.timezone).strftime("%Y-%m-%d")


def in_private(ctx: Context) -> bool:
    """Whether the event came from a private chat (no chat, or a chat that is not a group)."""
    chat = ctx.event.chat
    return chat is None or chat.type != "group"


def admins_here(ctx: Context) -> list[str]:
    """Member keys of the admins the config names for this chat, on its platform."""
    config = ctx.config
    if config is None:
        return []
    keys = list(config.bot.admins)
    group = config.group(ctx.chat_key) if ctx.chat_key else None
    if group is not None:
        keys += group.admins
    platform = split_key(ctx.chat_key)[0] if ctx.chat_key else ctx.event.platform
    return [k for k in dict.fromkeys(keys) if split_key(k)[0] == platform]


def tell_admins(ctx: Context, text: str) -> None:
    """Privately to the configured admins where possible, else in the group."""
    admins = admins_here(ctx)
    if admins and DIRECT_MESSAGES in ctx.features:
        for admin in admins:
            ctx.emit(act.SendDirect(admin, text))
    elif ctx.chat_key is not None:
        ctx.emit(act.SendMessage(ctx.chat_key, text))


def send_privately(ctx: Context, member: str, text: str, notice: str) -> None:
    """``text`` by direct message, falling back to ``notice`` in the group; ``notice`` alone without DMs."""
    chat = ctx.chat_key
    fallback = act.dump(ctx.answering(act.SendMessage(chat, notice))) if chat else None
    if DIRECT_MESSAGES in ctx.features:
        ctx.emit(act.SendDirect(member, text, fallback=fallback))
    elif chat is not None:
        ctx.emit(act.SendMessage(chat, notice))


async def claim_code(
    ctx: Context, pool: str, settings: CouponPoolConfig, member: str, campaign: str, at: datetime
) -> Coupon | None:
    """Claim a code of ``pool`` for ``member`` as of ``at`` (making the pool's codes first where
    Hearth generates them); None, with the shortfall recorded, when the pool is empty."""
    if settings.generate:
        await coupons.top_up_generated(ctx.conn, pool, settings.generate, at, settings.prefix, settings.length)
    coupon = await coupons.claim(
        ctx.conn,
        pool=pool,
        member=member,
        chat=ctx.chat_key,
        campaign=campaign,
        now=at,
        expires_at=coupons.expiry_for(at, settings.valid_for, settings.expires),
        event_ref=ctx.event_ref,
    )
    if coupon is None:
        await coupons.record_shortfall(
            ctx.conn, pool=pool, member=member, chat=ctx.chat_key, campaign=campaign, now=at, event_ref=ctx.event_ref
        )
    return coupon


async def give(ctx: Context, pool: str, member: str, name: str) -> Coupon | None:
    """Claim a coupon of ``pool`` for ``member`` and deliver it; None (with a shortfall) when empty."""
    assert ctx.config is not None
    settings = ctx.config.coupons[pool]
    at = ctx.event.at
    coupon = await claim_code(ctx, pool, settings, member, ctx.campaign, at)
    total = await coupons.total(ctx.conn, pool)
    if coupon is None:
        if ctx.chat_key is not None:
            ctx.emit(act.SendMessage(ctx.chat_key, ctx.t("coupon.empty", name=name)))
        if await coupons.once(ctx.conn, f"coupons:{pool}:empty:{total}", at):
            tell_admins(ctx, ctx.t("coupon.admin_empty", pool=pool))
        return None
    left = await coupons.available(ctx.conn, pool, at)
    if left <= settings.low_threshold and await coupons.once(ctx.conn, f"coupons:{pool}:low:{total}", at):
        tell_admins(ctx, ctx.t("coupon.admin_low", pool=pool, left=left))
    lines = [ctx.t("coupon.given", name=name, group=ctx.group_title or ctx.chat_key or "", code=coupon.code)]
    if settings.description:
        lines.append(settings.description)
    if coupon.expires_at is not None:
        lines.append(ctx.t("coupon.valid_until", date=_date(ctx, coupon.expires_at)))
    lines.append(ctx.t("coupon.show"))
    send_privately(ctx, member, "\n".join(lines), ctx.t("coupon.notice", name=name))
    return coupon


def state_text(ctx: Context, coupon: Coupon) -> str:
    state = coupon.state(ctx.event.at)
    if state == "expired" and coupon.expires_at is not None:
        return ctx.t("coupon.state.expired", date=_date(ctx, coupon.expires_at))
    if state == "redeemed" and coupon.redeemed_at is not None:
        return ctx.t("coupon.state.redeemed", date=_date(ctx, coupon.redeemed_at))
    if state == "voided":
        return ctx.t("coupon.state.voided")
    if coupon.expires_at is not None:
        return ctx.t("coupon.state.valid_until", date=_date(ctx, coupon.expires_at))
    return ctx.t("coupon.state.valid")


async def show_mine(ctx: Context) -> None:
    """``/mycoupons``: the codes in a private chat; in a group, where to ask instead."""
    member = ctx.member_key
    if member is None:
        return
    if not in_private(ctx):
        key = "coupon.mine.in_group" if DIRECT_MESSAGES in ctx.features else "coupon.mine.no_dm"
        ctx.reply(ctx.t(key, name=ctx.member_name))
        return
    mine = await coupons.of_member(ctx.conn, member, ctx.campaign)
    if not mine:
        ctx.reply(ctx.t("coupon.mine.none"))
        return
    rows = [ctx.t("coupon.mine.row", code=c.code, state=state_text(ctx, c)) for c in mine]
    ctx.reply("\n".join([ctx.t("coupon.mine.header"), *rows]))


async def redeem(ctx: Context) -> None:
    """``/redeem CODE`` (admins): mark a given, valid coupon as used, or say why not."""
    if not ctx.is_admin:
        ctx.reply(ctx.t("admin.only"))
        return
    args = ctx.command.args if ctx.command else ()
    if len(args) != 1:
        ctx.reply(ctx.t("usage", usage="/redeem CODE"))
        return
    code = args[0].strip()[:80]
    coupon = await coupons.by_code(ctx.conn, code)
    if coupon is None:
        ctx.reply(ctx.t("coupon.redeem.unknown", code=code))
        return
    state = coupon.state(ctx.event.at)
    if state == "available" or coupon.member is None:
        ctx.reply(ctx.t("coupon.redeem.never_given", code=coupon.code))
    elif state == "redeemed":
        ctx.reply(ctx.t("coupon.redeem.already", code=coupon.code, date=_date(ctx, coupon.redeemed_at or ctx.event.at)))
    elif state == "expired":
        ctx.reply(ctx.t("coupon.redeem.expired", code=coupon.code, date=_date(ctx, coupon.expires_at or ctx.event.at)))
    elif state == "voided":
        ctx.reply(ctx.t("coupon.redeem.voided", code=coupon.code, date=_date(ctx, coupon.voided_at or ctx.event.at)))
    elif await coupons.redeem(ctx.conn, coupon.id, ctx.member_key or "", ctx.event.at):
        given = _date(ctx, coupon.assigned_at or ctx.event.at)
        who = await referrals.name_of(ctx.conn, coupon.member)
        ctx.reply(ctx.t("coupon.redeem.ok", code=coupon.code, member=who, date=given, pool=coupon.pool))
    else:  # redeemed by someone else a moment ago
        ctx.reply(ctx.t("coupon.redeem.already", code=coupon.code, date=_date(ctx, ctx.event.at)))
