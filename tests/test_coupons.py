"""Coupon pools as members and staff see them: delivery (privately, or a notice without the
code), expiry, an empty pool's honest answer, low-pool alerts, ``/mycoupons`` and ``/redeem``;
and how a campaign degrades on platforms without DMs or without per-member invite links."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from adapters.base import Feature, PermanentError, SendResult
from bot import actions as act
from bot.events import Invite
from bot.simulate import RecordingAdapter
from storage.referral_models import CouponCode, CouponShortfall
from tests.harness import Conversation

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)
BASE = """
[bot]
timezone = "Asia/Shanghai"
admins = ["sandbox:boss"]
[platforms.sandbox]
[coupons.friend10]
generate = {count}
low_threshold = {low}
valid_for = "7d"
[campaigns.bring_a_friend]
type = "referral"
qualify_after = "1h"
qualify_messages = 0
inviter_reward = {{ points = 10, coupon_pool = "friend10" }}
"""


def config(count: int = 20, low: int = 0) -> str:
    return BASE.format(count=count, low=low)


async def refer(chat: Conversation, inviter: str, invitee: str) -> list[act.Action]:
    """``inviter`` gets a link, ``invitee`` joins through it, and an hour later it qualifies."""
    await chat.say(inviter, "/invite")
    await chat.deliver(chat.event("join", invitee, invite=f"{inviter}@g1"))
    return await chat.advance_actions(timedelta(hours=1, minutes=1))


async def codes(chat: Conversation) -> dict[str, CouponCode]:
    t = CouponCode.__table__
    async with chat.db.connect() as conn:
        return {r.member_key: r for r in await conn.execute(select(t)) if r.member_key}


async def private(chat: Conversation, user: str, text: str) -> list[str]:
    """``user`` writes to the bot in a private chat."""
    event = replace(chat.event("say", user, text=text), chat=None)
    return [a.content for a in await chat.deliver(event) if isinstance(a, act.SendMessage | act.SendDirect)]


async def test_coupon_arrives_privately_and_staff_redeem_it_once() -> None:
    chat = await Conversation.open(config(), START)
    try:
        sent = await refer(chat, "alice", "bob")
        code = (await codes(chat))["sandbox:alice"].code
        group = [a.content for a in sent if isinstance(a, act.SendMessage)]
        [dm] = [a.content for a in sent if isinstance(a, act.SendDirect) and a.user == "sandbox:alice"]
        assert code in dm and all(code not in text for text in group)  # never shown to the group
        [mine] = await private(chat, "alice", "/mycoupons")
        assert code in mine and "valid until 2026-12-08" in mine
        [in_group] = await chat.say("alice", "/mycoupons")
        assert code not in in_group and "open a chat with me" in in_group
        assert await chat.say("alice", f"/redeem {code}") == ["This command is for the group's admins."]
        [ok] = await chat.say("boss", f"/redeem {code.lower()}")
        assert f"{code} redeemed: given to alice on 2026-12-01" in ok
        [again] = await chat.say("boss", f"/redeem {code}")
        assert "already redeemed" in again
        [mine] = await private(chat, "alice", "/mycoupons")
        assert "used on 2026-12-01" in mine
    finally:
        await chat.close()


async def test_expired_coupon_cannot_be_redeemed() -> None:
    chat = await Conversation.open(config(), START)
    try:
        await refer(chat, "alice", "bob")
        code = (await codes(chat))["sandbox:alice"].code
        chat.clock.set(START + timedelta(days=8))
        [answer] = await chat.say("boss", f"/redeem {code}")
        assert "expired on 2026-12-08" in answer
        [mine] = await private(chat, "alice", "/mycoupons")
        assert "expired on 2026-12-08" in mine
        assert (await codes(chat))["sandbox:alice"].status == "assigned"  # not redeemed
    finally:
        await chat.close()


async def test_redeem_refuses_unknown_and_never_given_codes() -> None:
    chat = await Conversation.open(config(count=3), START)
    try:
        await refer(chat, "alice", "bob")  # generates the pool and gives one code out
        t = CouponCode.__table__
        async with chat.db.connect() as conn:
            spare = (await conn.execute(select(t.c.code).where(t.c.status == "available"))).scalars().first()
        assert "never given" in (await chat.say("boss", f"/redeem {spare}"))[0]
        assert "no coupon with the code NOPE-123" in (await chat.say("boss", "/redeem NOPE-123"))[0]
        assert (await chat.say("boss", "/redeem"))[0] == "Usage: /redeem CODE"
    finally:
        await chat.close()


async def test_low_pool_tells_the_admins_once_and_an_empty_pool_answers_honestly() -> None:
    chat = await Conversation.open(config(count=2, low=1), START)
    try:
        first = await refer(chat, "alice", "bob")
        alerts = [a.content for a in first if isinstance(a, act.SendDirect) and a.user == "sandbox:boss"]
        assert len(alerts) == 1 and "running low — 1 code(s) left" in alerts[0]
        second = await refer(chat, "carol", "dave")
        assert not [a for a in second if isinstance(a, act.SendDirect) and a.user == "sandbox:boss"]
        third = await refer(chat, "erin", "frank")
        group = [a.content for a in third if isinstance(a, act.SendMessage)]
        assert "Sorry erin, all the coupons have been given out" in "\n".join(group)
        [empty] = [a.content for a in third if isinstance(a, act.SendDirect) and a.user == "sandbox:boss"]
        assert "“friend10” is empty" in empty
        assert await chat.points("erin") == 10  # the rest of the reward still arrives
        t = CouponShortfall.__table__
        async with chat.db.connect() as conn:
            owed = [(r.pool, r.member_key) for r in await conn.execute(select(t))]
        assert owed == [("friend10", "sandbox:erin")]
    finally:
        await chat.close()


class NoDirectMessages(RecordingAdapter):
    features = RecordingAdapter.features - {Feature.DIRECT_MESSAGES}


class ClosedDirectMessages(RecordingAdapter):
    """Members never opened a private chat with the bot: every DM fails for good."""

    async def perform(self, action: act.Action, idempotency_key: str) -> SendResult:
        if isinstance(action, act.SendDirect):
            raise PermanentError("Forbidden: bot can't initiate conversation with a user")
        return await super().perform(action, idempotency_key)


async def test_without_direct_messages_the_group_gets_a_notice_without_the_code() -> None:
    for adapter in (NoDirectMessages, ClosedDirectMessages):
        chat = await Conversation.open(config(), START, adapter=adapter)
        try:
            sent = await refer(chat, "alice", "bob")
            code = (await codes(chat))["sandbox:alice"].code
            group = [a.content for a in sent if isinstance(a, act.SendMessage)]
            assert any("alice, you have a coupon waiting" in text for text in group), adapter
            assert all(code not in text for text in group), adapter
        finally:
            await chat.close()


async def test_mycoupons_in_a_group_without_direct_messages_points_to_an_admin() -> None:
    chat = await Conversation.open(config(), START, adapter=NoDirectMessages)
    try:
        [answer] = await chat.say("alice", "/mycoupons")
        assert "please ask an admin" in answer
    finally:
        await chat.close()


class PlatformReportsInviter(RecordingAdapter):
    """Like OneBot: no per-member links, but joins say who invited the member."""

    features = RecordingAdapter.features - {Feature.INVITE_LINKS}


class NoAttribution(RecordingAdapter):
    features = RecordingAdapter.features - {Feature.INVITE_LINKS, Feature.JOIN_ATTRIBUTION}


async def test_invite_explains_the_platform_feature_where_the_platform_reports_the_inviter() -> None:
    chat = await Conversation.open(config(), START, adapter=PlatformReportsInviter)
    try:
        [answer] = await chat.say("alice", "/invite")
        assert "group's own “Invite” feature" in answer and "1 h" in answer
        join = chat.event("join", "bob")
        invited = Invite(creator="sandbox:alice", via="invited_by", confidence="exact")
        await chat.deliver(replace(join, invite=invited))
        await chat.advance(timedelta(hours=2))
        assert await chat.points("alice") == 10
    finally:
        await chat.close()
    chat = await Conversation.open(config(), START, adapter=NoAttribution)
    try:
        [answer] = await chat.say("alice", "/invite")
        assert "does not tell me who invited whom" in answer
    finally:
        await chat.close()
