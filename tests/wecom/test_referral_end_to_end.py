"""End to end: a per-referrer join way, customers join through it over signed, encrypted
callbacks, and the ordinary referral campaign pays the referrer after the qualification delay,
unless the customer left first."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.events import EventKind
from storage.models import LedgerEntry, Membership
from storage.referral_models import Referral
from tests.wecom.conftest import OWNER, START

GROUP = "wrGroupA"
CAMPAIGN = f"""
[campaigns.bring]
type = "referral"
groups = ["wecom:{GROUP}"]
qualify_after = "24h"
qualify_messages = 0
announce = false
acknowledge_platform_policy = true
inviter_reward = {{ points = 50 }}
"""


async def ledger(rig) -> list[tuple[str, int]]:
    t = LedgerEntry.__table__.c
    async with rig.db.connect() as conn:
        return [tuple(r) for r in await conn.execute(select(t.member_key, t.points).order_by(t.id))]


async def referral_status(rig) -> dict[str, tuple[str, str, str | None]]:
    t = Referral.__table__.c
    async with rig.db.connect() as conn:
        rows = await conn.execute(select(t.invitee, t.inviter, t.status, t.reason))
        return {r.invitee: (r.inviter, r.status, r.reason) for r in rows}


async def test_referrer_is_paid_once_after_the_delay_and_not_for_an_early_leaver(fake, rig_factory) -> None:
    fake.add_group(GROUP, OWNER, "Coffee fans", members=["wmAlice"])
    rig = await rig_factory(CAMPAIGN)
    await rig.adapter.sync_now()  # the first look: Alice was there before Hearth, no events
    assert await rig.events(EventKind.MEMBER_JOINED) == []

    way = await rig.adapter.ways.create("bring", "wecom:wmAlice", [GROUP], rig.clock.now(), None)
    assert len(way.state) <= 30 and fake.join_ways[way.config_id]["state"] == way.state
    assert fake.join_ways[way.config_id]["scene"] == 2

    # Bob scans Alice's code; WeCom's details lag twice behind the callback
    xml = fake.join(GROUP, "wmBob", state=way.state, lag=2, unionid="oUnionBob")
    await rig.deliver(xml)
    [join] = await rig.events(EventKind.MEMBER_JOINED)
    assert join.startswith(f"join:{GROUP}:wmBob:")
    assert len(fake.called("groupchat/get")) >= 4  # the sync, then 2 stale answers and the fresh one
    async with rig.db.connect() as conn:
        t = Membership.__table__.c
        row = (await conn.execute(select(t.invited_by, t.invite_confidence).where(t.member_key == "wecom:wmBob"))).one()
    assert tuple(row) == ("wecom:wmAlice", "exact")
    roster = await rig.adapter.store.roster(GROUP)
    assert roster["wmBob"].unionid == "oUnionBob" and roster["wmBob"].state == way.state

    # a retry of the same callback changes nothing
    await rig.deliver(xml)
    assert len(await rig.events(EventKind.MEMBER_JOINED)) == 1

    # Carol comes the same way, but leaves after an hour (the older CSV MemChangeList format)
    rig.clock.advance(timedelta(minutes=5))
    await rig.deliver(fake.join(GROUP, "wmCarol", state=way.state))
    rig.clock.advance(timedelta(hours=1))
    await rig.deliver(fake.leave(GROUP, "wmCarol", items=False))
    assert len(await rig.events(EventKind.MEMBER_LEFT)) == 1

    await rig.advance(timedelta(hours=22))  # Bob has been in the group 23h05m
    assert await ledger(rig) == []  # not yet: 24 hours in the group
    await rig.advance(timedelta(hours=1))
    assert await ledger(rig) == [("wecom:wmAlice", 50)]  # for Bob; nothing for Carol
    status = await referral_status(rig)
    assert status["wecom:wmBob"][:2] == ("wecom:wmAlice", "qualified")
    assert status["wecom:wmCarol"][1] == "left"
    await rig.advance(timedelta(days=3))
    assert await ledger(rig) == [("wecom:wmAlice", 50)]
    assert rig.clock.now() > START


async def test_a_join_without_a_hearth_state_is_unknown_and_pays_nobody(fake, rig_factory) -> None:
    fake.add_group(GROUP, OWNER, members=["wmAlice"])
    rig = await rig_factory(CAMPAIGN)
    await rig.adapter.sync_now()
    await rig.deliver(fake.join(GROUP, "wmDave"))  # invited directly: WeCom names no referrer
    await rig.deliver(fake.join(GROUP, "wmEve", state="someone-elses"))
    async with rig.db.connect() as conn:
        t = Membership.__table__.c
        rows = await conn.execute(select(t.member_key, t.invite_confidence).where(t.invite_confidence.is_not(None)))
        assert dict(rows.all()) == {"wecom:wmDave": "unknown", "wecom:wmEve": "unknown"}
    await rig.advance(timedelta(days=2))
    assert await ledger(rig) == []


async def test_a_code_of_the_ended_campaign_is_not_credited_by_the_next(fake, rig_factory) -> None:
    fake.add_group(GROUP, OWNER, members=["wmAlice", "wmErin"])
    two = f"""
[campaigns.autumn]
type = "referral"
groups = ["wecom:{GROUP}"]
ends = 2026-11-30T23:59:59+08:00
qualify_after = "1h"
qualify_messages = 0
announce = false
acknowledge_platform_policy = true
inviter_reward = {{ points = 50 }}

[campaigns.winter]
type = "referral"
groups = ["wecom:{GROUP}"]
starts = 2026-12-01T00:00:00+08:00
qualify_after = "1h"
qualify_messages = 0
announce = false
acknowledge_platform_policy = true
inviter_reward = {{ points = 7 }}
"""
    rig = await rig_factory(two)
    await rig.adapter.sync_now()
    old = await rig.adapter.ways.create("autumn", "wecom:wmAlice", [GROUP], rig.clock.now(), None)  # not pruned yet
    new = await rig.adapter.ways.create("winter", "wecom:wmErin", [GROUP], rig.clock.now(), None)
    await rig.deliver(fake.join(GROUP, "wmBob", state=old.state))
    await rig.deliver(fake.join(GROUP, "wmCarol", state=new.state))
    await rig.advance(timedelta(hours=2))
    assert await ledger(rig) == [("wecom:wmErin", 7)]  # Bob's code was autumn's, which has ended
    t = Referral.__table__.c
    async with rig.db.connect() as conn:
        rows = await conn.execute(select(t.campaign, t.invitee))
        assert sorted(tuple(r) for r in rows) == [("winter", "wecom:wmCarol")]
