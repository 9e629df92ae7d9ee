"""Roster syncs: joins and leaves missed while Hearth was down are reconciled once, with the
sync time; paginated group lists; the late callback for a reconciled join changes nothing;
group size, joins and leaves per day; dismissed groups."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.events import EventKind
from storage.models import Chat, Membership
from storage.wecom_models import WeComGroupDay
from tests.wecom.conftest import OWNER, START


async def test_missed_joins_and_leaves_are_reconciled_once(fake, rig_factory) -> None:
    for i in range(5):  # more groups than one page of groupchat/list
        fake.add_group(f"wrG{i}", OWNER, f"Group {i}", members=[f"wmOld{i}"])
    fake.add_group("wrOther", "lisi", members=["wmX"])  # not owned by our staff
    rig = await rig_factory()
    await rig.adapter.sync_now()
    assert await rig.events(EventKind.MEMBER_JOINED) == []  # the first look records, it does not invent joins
    lists = fake.called("groupchat/list")
    assert len(lists) == 3 and lists[0].body["owner_filter"] == {"userid_list": [OWNER]}
    assert sorted(await rig.adapter.store.active_groups()) == [f"wrG{i}" for i in range(5)]

    # Hearth is down: two customers join, one leaves; the callbacks never arrive
    late = fake.join("wrG1", "wmNew1")
    fake.join("wrG3", "wmNew3")
    fake.leave("wrG0", "wmOld0")
    rig.clock.advance(timedelta(hours=6))
    sync_time = rig.clock.now()
    await rig.adapter.sync_now()
    joins = await rig.events(EventKind.MEMBER_JOINED)
    assert sorted(j.split(":")[1:3] for j in joins) == [["wrG1", "wmNew1"], ["wrG3", "wmNew3"]]
    assert [e.split(":")[1:3] for e in await rig.events(EventKind.MEMBER_LEFT)] == [["wrG0", "wmOld0"]]
    async with rig.db.connect() as conn:
        t = Membership.__table__.c
        row = (await conn.execute(select(t.joined_at).where(t.member_key == "wecom:wmNew1"))).one()
        assert row.joined_at == sync_time
        gone = (await conn.execute(select(t.active).where(t.member_key == "wecom:wmOld0"))).scalar_one()
        assert gone is False

    # again, and the late callback for a reconciled join: nothing new
    await rig.adapter.sync_now()
    await rig.deliver(late)
    assert len(await rig.events(EventKind.MEMBER_JOINED)) == 2
    assert len(await rig.events(EventKind.MEMBER_LEFT)) == 1

    days = WeComGroupDay.__table__.c
    async with rig.db.connect() as conn:
        rows = await conn.execute(select(days.chat_id, days.members, days.joins, days.leaves).order_by(days.chat_id))
        figures = {r.chat_id: (r.members, r.joins, r.leaves) for r in rows}
    assert figures["wrG0"] == (1, 0, 1)  # the owner is left
    assert figures["wrG1"] == (3, 1, 0)
    assert rig.clock.now().date() == START.date()


async def test_a_dismissed_group_means_everyone_left(fake, rig_factory) -> None:
    fake.add_group("wrGone", OWNER, members=["wmA", "wmB"])
    rig = await rig_factory()
    await rig.adapter.sync_now()
    del fake.groups["wrGone"]
    await rig.adapter.sync_now()
    assert len(await rig.events(EventKind.MEMBER_LEFT)) == 3
    async with rig.db.connect() as conn:
        t = Chat.__table__.c
        assert (await conn.execute(select(t.active).where(t.key == "wecom:wrGone"))).scalar_one() is False
    assert await rig.adapter.store.active_groups() == []


async def test_the_access_token_is_reused_and_renewed_when_expired(fake, rig_factory) -> None:
    fake.add_group("wrT", OWNER)
    rig = await rig_factory()
    await rig.adapter.sync_now()
    await rig.adapter.sync_now()
    assert len(fake.tokens_issued) == 1
    fake.expire_tokens()  # WeCom answers 42001 to the old token
    await rig.adapter.sync_now()
    assert len(fake.tokens_issued) == 2
    assert {c.token for c in fake.called("groupchat/list")} == set(fake.tokens_issued)


async def test_background_start_syncs_and_handles_callbacks(fake, rig_factory) -> None:
    fake.add_group("wrBg", OWNER, members=["wmA"])
    rig = await rig_factory(background=True)
    await _until(lambda: rig.adapter.store.known("wrBg"))
    assert await rig.callbacks.send(fake.join("wrBg", "wmB")) == (200, "success")

    async def joined() -> bool:
        return len(await rig.events(EventKind.MEMBER_JOINED)) == 1

    await _until(joined)


async def _until(predicate, within: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await predicate():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


async def test_first_look_emits_only_joins_through_hearths_join_ways(fake, rig_factory) -> None:
    fake.add_group("wrNew", OWNER, members=["wmOld"])
    rig = await rig_factory()
    way = await rig.adapter.ways.create("bring", "wecom:wmOld", ["wrNew"], rig.clock.now(), None)
    xml = fake.join("wrNew", "wmFriend", state=way.state)  # Hearth has never looked at this group
    await rig.deliver(xml)
    [join] = await rig.events(EventKind.MEMBER_JOINED)
    assert join.startswith("join:wrNew:wmFriend:")
    async with rig.db.connect() as conn:
        t = Membership.__table__.c
        rows = dict((await conn.execute(select(t.member_key, t.invited_by))).all())
    assert rows == {"wecom:zhangsan": None, "wecom:wmOld": None, "wecom:wmFriend": "wecom:wmOld"}


async def test_the_daily_sync_deletes_join_ways_of_ended_campaigns(fake, rig_factory) -> None:
    fake.add_group("wrEnd", OWNER)
    rig = await rig_factory()
    now = rig.clock.now()
    ending = await rig.adapter.ways.create("spring", "wecom:wmA", ["wrEnd"], now, now + timedelta(days=1))
    lasting = await rig.adapter.ways.create("always", "wecom:wmA", ["wrEnd"], now, None)
    await rig.adapter.sync_now()
    assert set(fake.join_ways) == {ending.config_id, lasting.config_id}
    rig.clock.advance(timedelta(days=1, minutes=1))
    await rig.adapter.sync_now()
    assert set(fake.join_ways) == {lasting.config_id}
    assert [w.campaign for w in await rig.adapter.ways.all()] == ["always"]
