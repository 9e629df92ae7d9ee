"""Referral campaigns ("bring a friend, both get a coupon"), the honest way.

Hearth rewards attributed, qualified joins, not shares: a member gets a personal invite
(``/invite``); when someone joins through it the platform says whose it was; after
``qualify_after`` the scheduler checks that the newcomer is still in the group and has
written ``qualify_messages`` messages, and then pays both sides once. Farming is refused and
recorded with the reason (:mod:`campaigns.referral_rules`); payments, tiers, the budget and
clawbacks are in :mod:`campaigns.referral_rewards`. Platforms without per-member invite links
but with join attribution (OneBot reports the inviting member) get an explanation instead of
a link; the campaign degrades through the platform's feature flags, never by its name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot import actions as act
from bot.context import Context
from bot.events import EventKind
from campaigns import coupon_delivery, referral_rewards
from campaigns import referral_rules as rules
from campaigns.base import Campaign, CommandSpec, register
from campaigns.referral_config import ReferralConfig, span
from storage import invites, referrals
from storage.referrals import ReferralRow
from storage.tx import cache_of

INVITE_LINKS = "invite_links"  # adapters.base.Feature values
JOIN_ATTRIBUTION = "join_attribution"
LINK_PATIENCE = timedelta(minutes=10)  # a link asked for and not yet made is asked for again after this
_MESSAGES = (EventKind.MESSAGE_CREATED, EventKind.COMMAND_INVOKED)


@register
class ReferralCampaign(Campaign):
    type = "referral"
    config_model = ReferralConfig
    config: ReferralConfig

    def commands(self) -> list[CommandSpec]:
        return [
            CommandSpec("invite", "cmd.invite", "/invite", private=True),
            CommandSpec("invites", "cmd.invites", "/invites", private=True),
            CommandSpec("mycoupons", "cmd.mycoupons", "/mycoupons", private=True),
            CommandSpec("redeem", "cmd.redeem", "/redeem CODE", admin=True),
        ]

    def applies_to(self, chat_key: str | None) -> bool:
        """Its groups, and private chats (``/mycoupons``, ``/redeem``)."""
        return chat_key is None or super().applies_to(chat_key)

    def active_at(self, when: object) -> bool:
        """Always listening while enabled: joins outside the window are recorded as refused, and
        referrals made inside it still qualify after it closed. The window is :meth:`in_window`."""
        return self.config.enabled

    def in_window(self, when: object) -> bool:
        return super().active_at(when)  # type: ignore[arg-type]

    # --- dispatch -------------------------------------------------------------------------

    async def prefetch(self, contexts: Sequence[Context]) -> None:
        """One query for the pending referrals of every member writing in this batch."""
        members = list({c.member_key for c in contexts if c.event.kind in _MESSAGES and c.member_key})
        cache = cache_of(contexts[0].conn) if contexts else None
        if not members or cache is None:
            return
        found = await referrals.pending_of(contexts[0].conn, self.name, members)
        for member in members:
            cache[("referral.pending", self.name, member)] = found.get(member)

    async def handle(self, ctx: Context) -> None:
        kind = ctx.event.kind
        if kind is EventKind.TIMER_FIRED:
            await self.on_timer(ctx)
        elif kind is EventKind.MEMBER_JOINED:
            await self.on_join(ctx)
        elif kind is EventKind.MEMBER_LEFT:
            await self.on_leave(ctx)
        elif kind in _MESSAGES:
            if ctx.command is not None:
                await self.on_command(ctx)
            await self.on_message(ctx)

    async def on_command(self, ctx: Context) -> None:
        name = ctx.command.name if ctx.command else ""
        if name == "invite":
            await self.show_invite(ctx)
        elif name == "invites":
            await self.show_invites(ctx)
        elif name == "mycoupons":
            await coupon_delivery.show_mine(ctx)
        elif name == "redeem":
            await coupon_delivery.redeem(ctx)

    # --- members' commands ------------------------------------------------------------------

    async def show_invite(self, ctx: Context) -> None:
        chat, member = ctx.chat_key, ctx.member_key
        if member is None:
            return
        if chat is None or coupon_delivery.in_private(ctx):
            ctx.reply(ctx.t("referral.group_only"))
            return
        c = self.config
        when = ctx.event.at
        if c.starts is not None and when < c.starts:
            ctx.reply(ctx.t("referral.not_started", date=f"{c.starts.astimezone(ctx.timezone):%Y-%m-%d %H:%M}"))
            return
        if c.ends is not None and when > c.ends:
            ctx.reply(ctx.t("referral.ended", date=f"{c.ends.astimezone(ctx.timezone):%Y-%m-%d}"))
            return
        wait, messages = span(ctx.language, c.qualify_after), c.qualify_messages
        if INVITE_LINKS not in ctx.features:
            key = "referral.platform_invites" if JOIN_ATTRIBUTION in ctx.features else "referral.untracked"
            ctx.reply(ctx.t(key, name=ctx.member_name, wait=wait, messages=messages))
            return
        group = ctx.group_title or chat

        def text(link: str) -> str:
            return ctx.t("referral.link", name=ctx.member_name, group=group, link=link, wait=wait, messages=messages)

        known = await invites.link_of(ctx.conn, chat, member)
        if known is not None and known.link:
            ctx.reply(text(known.link))
        elif known is not None and when - known.requested_at < LINK_PATIENCE:
            ctx.reply(ctx.t("referral.link_pending", name=ctx.member_name))
        else:
            await invites.requested(ctx.conn, chat, member, when)
            notify = act.SendMessage(chat, text("{link}"), reply_to=ctx.event.message_id)
            failed = act.SendMessage(chat, ctx.t("referral.link_failed", name=ctx.member_name))
            ctx.emit(
                act.CreateInviteLink(
                    chat, member, name=ctx.member_name[:32], notify=act.dump(notify), fallback=act.dump(failed)
                )
            )

    async def show_invites(self, ctx: Context) -> None:
        if ctx.member_key is None:
            return
        s = await referrals.inviter_stats(ctx.conn, self.name, ctx.member_key)
        if s.joined == 0 and s.not_counted == 0:
            ctx.reply(ctx.t("referral.stats_none", name=ctx.member_name))
            return
        lines = [
            ctx.t(
                "referral.stats",
                name=ctx.member_name,
                joined=s.joined,
                qualified=s.qualified,
                pending=s.pending,
                points=s.points,
                coupons=s.coupons,
            )
        ]
        if s.not_counted:
            lines.append(ctx.t("referral.stats_not_counted", count=s.not_counted))
        ctx.reply("\n".join(lines))

    # --- joins, leaves, messages, timers -----------------------------------------------------------

    async def on_join(self, ctx: Context) -> None:
        invite, chat, invitee = ctx.event.invite, ctx.chat_key, ctx.member_key
        if invite is None or chat is None or invitee is None or (invite.code is None and invite.creator is None):
            return  # an ordinary join: nobody to credit
        if invite.campaign is not None and invite.campaign != self.name:
            return  # made for another campaign, which credits it
        c = self.config
        inviter = invite.creator
        existing = await referrals.get(ctx.conn, self.name, invitee)
        user_is_bot = ctx.event.user is not None and ctx.event.user.is_bot
        bots = user_is_bot or (inviter is not None and await referrals.is_bot(ctx.conn, inviter))
        rewarded = 0
        if inviter is not None and c.max_rewards_per_inviter is not None:
            rewarded = await referrals.count_by_inviter(ctx.conn, self.name, inviter, ("qualified",))
        facts = rules.JoinFacts(
            chat=chat,
            invitee=invitee,
            inviter=inviter,
            confidence=invite.confidence,
            at=ctx.event.at,
            in_window=self.in_window(ctx.event.at),
            prior=ctx.prior_membership,
            existing=existing,
            bots=bots,
            inviter_rewarded=rewarded,
            rejoin=invite.rejoin,
        )
        verdict = rules.join_verdict(facts, require_exact=c.require_exact_attribution, cap=c.max_rewards_per_inviter)
        if verdict == rules.DUPLICATE:
            return
        if verdict is not None:
            await self._refuse(ctx, chat, invitee, inviter, verdict)
            return
        assert inviter is not None
        created = await referrals.create(
            ctx.conn,
            campaign=self.name,
            chat=chat,
            invitee=invitee,
            inviter=inviter,
            code=invite.code,
            confidence=invite.confidence,
            at=ctx.event.at,
            event_ref=ctx.event_ref,
        )
        if created is not None:
            await ctx.set_timer(f"qualify:{invitee}", ctx.event.at + c.qualify_after, {"referral": created}, invitee)

    async def on_leave(self, ctx: Context) -> None:
        member = ctx.member_key
        if member is None:
            return
        referral = await referrals.get(ctx.conn, self.name, member)
        if referral is None or referral.chat != ctx.chat_key:
            return
        if referral.status == "pending":
            await self._end(ctx, referral, "left", rules.LEFT_EARLY)
        elif rules.clawback_due(referral, ctx.event.at, self.config.clawback_on_leave):
            window = span(ctx.language, self.config.clawback_on_leave or timedelta(0))
            await referral_rewards.claw_back(ctx, self.config, referral, ctx.member_name, window)

    async def on_message(self, ctx: Context) -> None:
        """A pending invitee's message may be the one that makes them qualify."""
        member, chat = ctx.member_key, ctx.chat_key
        if member is None or chat is None or ctx.event.edited:
            return
        cache = cache_of(ctx.conn)
        key = ("referral.pending", self.name, member)
        if cache is not None and key in cache:
            referral = cache[key]
        else:
            referral = (await referrals.pending_of(ctx.conn, self.name, [member])).get(member)
        if (
            referral is not None
            and referral.chat == chat
            and ctx.event.at >= referral.joined_at + self.config.qualify_after
        ):
            await self.qualify(ctx, referral)

    async def on_timer(self, ctx: Context) -> None:
        data = ctx.event.data or {}
        member = data.get("member")
        if not isinstance(member, str) or not str(data.get("key", "")).startswith("qualify:"):
            return
        referral = await referrals.get(ctx.conn, self.name, member)
        if referral is not None and referral.status == "pending":
            await self.qualify(ctx, referral)

    # --- qualification -------------------------------------------------------------------------

    async def qualify(self, ctx: Context, referral: ReferralRow) -> None:
        """Pay the referral if it qualifies now; end it if it never will; else keep waiting."""
        c = self.config
        conn = ctx.conn
        presence = await referrals.presence(conn, referral.chat, referral.invitee)
        bots = await referrals.is_bot(conn, referral.invitee) or await referrals.is_bot(conn, referral.inviter)
        rewarded = 0
        if c.max_rewards_per_inviter is not None:
            rewarded = await referrals.count_by_inviter(conn, self.name, referral.inviter, ("qualified",))
        verdict = rules.qualify_verdict(
            referral,
            presence,
            now=ctx.event.at,
            after=c.qualify_after,
            messages=c.qualify_messages,
            bots=bots,
            inviter_rewarded=rewarded,
            cap=c.max_rewards_per_inviter,
        )
        if verdict == rules.WAIT:
            return
        if verdict != rules.QUALIFY:
            await self._end(ctx, referral, "left" if verdict == rules.LEFT_EARLY else "refused", verdict)
            return
        if not await referrals.move(conn, referral.id, frm="pending", to="qualified", at=ctx.event.at):
            return
        cache = cache_of(conn)
        if cache is not None:
            cache.pop(("referral.pending", self.name, referral.invitee), None)
        await self._forget_timer(ctx, referral)
        inviter = await referrals.name_of(conn, referral.inviter)
        invitee = await referrals.name_of(conn, referral.invitee)
        if not ctx.group_title:  # a timer's event knows only the chat's key
            ctx.group_title = await referrals.chat_title(conn, referral.chat)
        first = len(ctx.actions)
        lines = await referral_rewards.pay(ctx, c, referral, inviter, invitee)
        if c.announce or lines:  # the announcement goes before the coupons' messages
            head = [ctx.t("referral.qualified", invitee=invitee, inviter=inviter)] if c.announce else []
            ctx.actions.insert(first, act.SendMessage(referral.chat, "\n".join([*head, *lines])))

    async def _end(self, ctx: Context, referral: ReferralRow, status: str, reason: str) -> None:
        if await referrals.move(ctx.conn, referral.id, frm="pending", to=status, at=ctx.event.at, reason=reason):
            await self._forget_timer(ctx, referral)
            await self._refuse(ctx, referral.chat, referral.invitee, referral.inviter, reason)

    @staticmethod
    async def _forget_timer(ctx: Context, referral: ReferralRow) -> None:
        """Cancel the qualification timer, unless this event is its fire."""
        if ctx.event.kind is not EventKind.TIMER_FIRED:
            await ctx.cancel_timer(f"qualify:{referral.invitee}")

    async def _refuse(self, ctx: Context, chat: str, invitee: str, inviter: str | None, reason: str) -> None:
        await referrals.refuse(
            ctx.conn,
            campaign=self.name,
            chat=chat,
            invitee=invitee,
            inviter=inviter,
            reason=reason,
            at=ctx.event.at,
            event_ref=ctx.event_ref,
        )
