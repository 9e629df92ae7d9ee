"""Referral campaigns as members see them: invite, join, stay, both rewarded; and the ways
farming is refused (leaving early, rejoining, inviting oneself, caps, budgets, clawbacks)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import actions as act
from bot.events import Invite, User
from storage.referral_models import CouponCode, Referral, ReferralRefusal
from tests.harness import Conversation

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)
CONFIG = """
[bot]
timezone = "Asia/Shanghai"
admins = ["sandbox:boss"]
[platforms.sandbox]
[coupons.friend10]
description = "10% off your next order"
generate = 50
valid_for = "30d"
[coupons.welcome5]
generate = 50
[coupons.vip20]
generate = 5
[campaigns.bring_a_friend]
type = "referral"
qualify_after = "24h"
qualify_messages = 1
inviter_reward = { points = 50, coupon_pool = "friend10" }
invitee_reward = { coupon_pool = "welcome5" }
starts = 2026-12-01T00:00:00+08:00
ends = 2026-12-31T23:59:59+08:00
"""


def texts(actions: list[act.Action], kind: type = act.SendMessage) -> list[str]:
    return [a.content for a in actions if isinstance(a, kind)]  # type: ignore[attr-defined]


def dms(actions: list[act.Action], member: str) -> list[str]:
    return [a.content for a in actions if isinstance(a, act.SendDirect) and a.user == f"sandbox:{member}"]


async def invite_link(chat: Conversation, member: str) -> str:
    [reply] = await chat.say(member, "/invite")
    assert "your personal invite" in reply
    return reply.split(": ", 1)[1].split("\n", 1)[0]


async def join(chat: Conversation, member: str, code: str | None = None, at: datetime | None = None) -> None:
    fields = {"invite": code} if code else {}
    assert await chat.deliver(chat.event("join", member, at=at, **fields)) == []


async def leave(chat: Conversation, member: str, at: datetime | None = None) -> list[act.Action]:
    return await chat.deliver(chat.event("leave", member, at=at))


async def rows(chat: Conversation, table: type) -> list:
    async with chat.db.connect() as conn:
        return list(await conn.execute(select(table.__table__).order_by(table.__table__.c.id)))


@pytest.fixture
async def chat():
    conv = await Conversation.open(CONFIG, START)
    yield conv
    await conv.close()


async def test_invite_join_write_and_a_day_later_both_are_rewarded(chat: Conversation) -> None:
    code = await invite_link(chat, "alice")
    assert code == "alice@g1"  # the platform's link for alice, as the recording platform makes it
    assert await invite_link(chat, "alice") == code  # asked again: the same link, not a new one
    await join(chat, "bob", code)
    assert await chat.say("bob", "hi everyone") == []
    assert await chat.advance_actions(timedelta(hours=23)) == []
    sent = await chat.advance_actions(timedelta(hours=2))
    [announcement] = texts(sent)
    assert "bob joined through alice's invite" in announcement and "+50 points for alice" in announcement
    [alice_dm] = dms(sent, "alice")
    [bob_dm] = dms(sent, "bob")
    assert "10% off your next order" in alice_dm and "Valid until 2027-01-01" in alice_dm  # 30 days after 2026-12-02
    assert "Group one" in alice_dm
    codes = {c.member_key: c.code for c in await rows(chat, CouponCode) if c.member_key}
    assert codes["sandbox:alice"] in alice_dm and codes["sandbox:bob"] in bob_dm
    assert codes["sandbox:alice"] != codes["sandbox:bob"]
    assert await chat.ledger() == [("sandbox:alice", 50, "referral:inviter")]
    [stats] = await chat.say("alice", "/invites")
    assert "1 joined through you · 1 qualified · 0 pending" in stats and "50 points and 1 coupon" in stats
    assert await chat.advance_actions(timedelta(days=3)) == []  # paid once, never again


async def test_a_quiet_invitee_qualifies_with_their_first_message_after_the_wait(chat: Conversation) -> None:
    code = await invite_link(chat, "alice")
    await join(chat, "bob", code)
    assert await chat.advance_actions(timedelta(hours=30)) == []  # still in the group, but silent
    [stats] = await chat.say("alice", "/invites")
    assert "0 qualified · 1 pending" in stats
    replies = await chat.deliver(chat.event("say", "bob", text="hello!"))
    assert "bob joined through alice's invite" in texts(replies)[0]
    assert await chat.points("alice") == 50


async def test_leaving_before_qualifying_pays_nothing(chat: Conversation) -> None:
    code = await invite_link(chat, "alice")
    await join(chat, "bob", code)
    await chat.say("bob", "hi")
    assert await leave(chat, "bob", at=START + timedelta(hours=5)) == []
    assert await chat.advance_actions(timedelta(days=2)) == []
    assert await chat.ledger() == []
    [refusal] = await rows(chat, ReferralRefusal)
    assert refusal.reason == "left_before_qualifying" and refusal.inviter == "sandbox:alice"


async def test_rejoining_member_earns_nothing_for_anyone(chat: Conversation) -> None:
    await chat.say("carol", "I have been here for ages")  # carol was a member before the campaign
    await leave(chat, "carol", at=START + timedelta(hours=1))
    code = await invite_link(chat, "alice")
    await join(chat, "carol", code, at=START + timedelta(hours=2))
    await chat.say("carol", "back again")
    assert await chat.advance_actions(timedelta(days=2)) == []
    assert await chat.ledger() == []
    [refusal] = await rows(chat, ReferralRefusal)
    assert (refusal.invitee, refusal.reason) == ("sandbox:carol", "rejoin")
    [stats] = await chat.say("alice", "/invites")
    assert "1 join(s) did not count" in stats


async def test_leave_and_rejoin_through_a_second_link_is_not_paid_twice(chat: Conversation) -> None:
    alice, dave = await invite_link(chat, "alice"), await invite_link(chat, "dave")
    await join(chat, "bob", alice)
    await chat.say("bob", "hi")
    await chat.advance(timedelta(hours=25))
    assert await chat.points("alice") == 50
    await leave(chat, "bob")
    await join(chat, "bob", dave, at=chat.clock.now() + timedelta(days=1))
    await chat.say("bob", "I'm back")
    assert await chat.advance_actions(timedelta(days=2)) == []
    assert await chat.points("dave") == 0
    assert [r.reason for r in await rows(chat, ReferralRefusal)] == ["rejoin"]


async def test_self_referral_and_unattributed_codes_are_refused(chat: Conversation) -> None:
    code = await invite_link(chat, "alice")
    await leave(chat, "alice")  # alice leaves and comes back with her own link
    await join(chat, "alice", code, at=START + timedelta(hours=1))
    await join(chat, "erin", "made-up-code")  # no such link: nobody to credit
    await chat.say("alice", "hi")
    await chat.say("erin", "hi")
    assert await chat.advance_actions(timedelta(days=2)) == []
    assert await chat.ledger() == []
    reasons = {r.invitee: r.reason for r in await rows(chat, ReferralRefusal)}
    assert reasons == {"sandbox:alice": "self_referral", "sandbox:erin": "attribution_unknown"}


async def test_bots_and_guessed_attribution_are_refused(chat: Conversation) -> None:
    robot = replace(chat.event("say", "robot", text="beep"), user=User("sandbox", "robot", "robot", is_bot=True))
    await chat.deliver(robot)  # the bookkeeping now knows robot is a bot
    guessed = Invite(creator="sandbox:alice", via="link", confidence="approximate")  # e.g. Discord's invite diff
    await chat.deliver(replace(chat.event("join", "bob"), invite=Invite(creator="sandbox:robot", via="invited_by")))
    await chat.deliver(replace(chat.event("join", "carol"), invite=guessed))
    await chat.say("bob", "hi")
    await chat.say("carol", "hi")
    assert await chat.advance_actions(timedelta(days=2)) == []
    reasons = {r.invitee: r.reason for r in await rows(chat, ReferralRefusal)}
    assert reasons == {"sandbox:bob": "bot", "sandbox:carol": "attribution_approximate"}


async def test_guessed_attribution_counts_when_the_owner_allows_it() -> None:
    conv = await Conversation.open(CONFIG + "require_exact_attribution = false\n", START)
    try:
        guessed = Invite(creator="sandbox:alice", via="link", confidence="approximate")
        await conv.deliver(replace(conv.event("join", "carol"), invite=guessed))
        await conv.say("carol", "hi")
        await conv.advance(timedelta(hours=25))
        assert await conv.points("alice") == 50
    finally:
        await conv.close()


async def test_joins_outside_the_campaign_window_are_recorded_not_paid() -> None:
    conv = await Conversation.open(CONFIG, datetime(2026, 11, 20, 9, tzinfo=SHANGHAI))
    try:
        [early] = await conv.say("alice", "/invite")
        assert "starts on 2026-12-01" in early
        conv.adapter.invites["alice@g1"] = "sandbox:alice"  # a link from an earlier campaign
        await join(conv, "bob", "alice@g1")
        await conv.say("bob", "hi")
        assert await conv.advance_actions(timedelta(days=2)) == []
        assert [r.reason for r in await rows(conv, ReferralRefusal)] == ["outside_window"]
    finally:
        await conv.close()


async def test_a_join_reported_twice_is_tracked_once_and_paid_once(chat: Conversation) -> None:
    code = await invite_link(chat, "alice")
    first, second = chat.event("join", "bob", invite=code), chat.event("join", "bob", invite=code)
    await chat.deliver(first, second)  # e.g. a service message and a member update
    await chat.deliver(first)  # and a redelivery
    await chat.say("bob", "hi")
    await chat.advance(timedelta(hours=25))
    await chat.say("bob", "still here")  # a message after qualifying changes nothing
    assert await chat.ledger() == [("sandbox:alice", 50, "referral:inviter")]
    assert len(await rows(chat, Referral)) == 1 and await rows(chat, ReferralRefusal) == []


async def test_qualification_survives_a_restart_and_pays_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    first = await Conversation.open(CONFIG, START, database=url)
    code = await invite_link(first, "alice")
    await join(first, "bob", code)
    await first.say("bob", "hi")
    await first.close()  # the bot stops before the qualification is due
    again = await Conversation.open(CONFIG, START + timedelta(hours=1), database=url)
    try:
        sent = await again.advance_actions(timedelta(days=2))
        assert len(texts(sent)) == 1 and len(dms(sent, "alice")) == 1 and len(dms(sent, "bob")) == 1
        assert await again.ledger() == [("sandbox:alice", 50, "referral:inviter")]
    finally:
        await again.close()


async def test_tier_bonus_when_the_inviter_reaches_three_friends() -> None:
    toml = CONFIG + 'tiers = [ { invites = 3, points = 100, coupon_pool = "vip20" } ]\n'
    conv = await Conversation.open(toml, START)
    try:
        code = await invite_link(conv, "alice")
        announcements: list[str] = []
        for friend in ("bob", "carol", "dave"):
            await join(conv, friend, code)
            await conv.say(friend, "hi")
            announcements += texts(await conv.advance_actions(timedelta(hours=25)))
        assert "3 friends" not in "".join(announcements[:2])
        assert "🏅 alice has brought 3 friends" in announcements[2] and "+100 points for alice" in announcements[2]
        assert await conv.points("alice") == 3 * 50 + 100
        vip = [c for c in await rows(conv, CouponCode) if c.pool == "vip20" and c.member_key]
        assert [c.member_key for c in vip] == ["sandbox:alice"]
    finally:
        await conv.close()


async def test_cap_per_inviter_and_campaign_budget() -> None:
    toml = CONFIG + "max_rewards_per_inviter = 2\nbudget = { coupons = 5 }\n"
    conv = await Conversation.open(toml, START)
    try:
        alice, dave = await invite_link(conv, "alice"), await invite_link(conv, "dave")
        for friend in ("b1", "b2", "b3"):  # alice's third friend is over her cap
            await join(conv, friend, alice)
            await conv.say(friend, "hi")
        await conv.advance(timedelta(hours=25))
        assert await conv.points("alice") == 100
        assert [r.reason for r in await rows(conv, ReferralRefusal)] == ["inviter_cap"]
        for friend in ("d1", "d2"):  # 4 coupons given so far; the budget has room for 1 more
            await join(conv, friend, dave)
            await conv.say(friend, "hi")
        sent = await conv.advance_actions(timedelta(hours=25))
        given = [c for c in await rows(conv, CouponCode) if c.member_key]
        assert len(given) == 5
        assert any("reward budget is used up" in t for t in texts(sent))
        admin = dms(sent, "boss")
        assert len(admin) == 1 and "spent its coupon budget (5)" in admin[0]
        assert await conv.points("dave") == 100  # points have no budget here
    finally:
        await conv.close()


async def test_leaving_soon_after_qualifying_takes_the_reward_back() -> None:
    conv = await Conversation.open(CONFIG + 'clawback_on_leave = "7d"\n', START)
    try:
        code = await invite_link(conv, "alice")
        await join(conv, "bob", code)
        await conv.say("bob", "hi")
        await conv.advance(timedelta(hours=25))
        assert await conv.points("alice") == 50
        sent = await leave(conv, "bob", at=conv.clock.now() + timedelta(days=3))
        assert await conv.ledger() == [
            ("sandbox:alice", 50, "referral:inviter"),
            ("sandbox:alice", -50, "referral:clawback"),
        ]
        assert {c.member_key: c.status for c in await rows(conv, CouponCode) if c.member_key} == {
            "sandbox:alice": "voided",
            "sandbox:bob": "voided",
        }
        assert any("left within 7 day(s)" in t for t in dms(sent, "alice"))
        [stats] = await conv.say("alice", "/invites")
        assert "0 qualified" in stats and "0 points and 0 coupon" in stats
    finally:
        await conv.close()


async def test_leaving_after_the_clawback_window_keeps_the_reward() -> None:
    conv = await Conversation.open(CONFIG + 'clawback_on_leave = "7d"\n', START)
    try:
        code = await invite_link(conv, "alice")
        await join(conv, "bob", code)
        await conv.say("bob", "hi")
        await conv.advance(timedelta(hours=25))
        await leave(conv, "bob", at=conv.clock.now() + timedelta(days=8))
        assert await conv.points("alice") == 50
    finally:
        await conv.close()


async def test_the_same_campaign_on_postgresql(pg_url: str) -> None:
    conv = await Conversation.open(CONFIG + 'clawback_on_leave = "7d"\n', START, database=pg_url)
    try:
        code = await invite_link(conv, "alice")
        await join(conv, "bob", code)
        await join(conv, "bob", code)  # reported twice
        await conv.say("bob", "hi")
        sent = await conv.advance_actions(timedelta(hours=25))
        assert len(texts(sent)) == 1 and len(dms(sent, "alice")) == 1 and len(dms(sent, "bob")) == 1
        await leave(conv, "bob", at=conv.clock.now() + timedelta(days=1))
        assert await conv.ledger() == [
            ("sandbox:alice", 50, "referral:inviter"),
            ("sandbox:alice", -50, "referral:clawback"),
        ]
        assert sorted(c.status for c in await rows(conv, CouponCode) if c.member_key) == ["voided", "voided"]
    finally:
        await conv.close()
