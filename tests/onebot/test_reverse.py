"""Reverse WebSocket end to end: fake NapCat accounts dial the real Hearth App."""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.events import EventKind
from storage import db as storage_db
from storage.models import LedgerEntry, Membership, ProcessedEvent
from tests.onebot.conftest import GROUP, QQ_BOT, TOKEN, WX_BOT, OneBot, eventually, processed
from tests.onebot.fake_onebot import group_increase, group_message, heartbeat


async def test_checkin_in_a_qq_group_gets_its_reply(onebot: OneBot) -> None:
    app = await onebot.start()
    qq = onebot.account()
    await qq.connect(onebot.url(app), TOKEN)
    event = group_message(QQ_BOT, GROUP, 20002000, [{"type": "text", "data": {"text": "签到"}}], name="Bob")
    await qq.push(event)
    await qq.wait_for(lambda: qq.sent("send_group_msg"))
    [sent] = qq.sent("send_group_msg")
    assert sent["group_id"] == GROUP
    reply, text = sent["message"]
    assert reply == {"type": "reply", "data": {"id": str(event["message_id"])}}
    assert text["type"] == "text" and "Bob checked in: +10 points" in text["data"]["text"]
    t = LedgerEntry.__table__.c
    async with app.db.connect() as conn:
        rows = (await conn.execute(select(t.member_key, t.chat_key, t.points))).all()
    assert [tuple(r) for r in rows] == [("qq:20002000", f"qq:{GROUP}", 10)]


async def test_cq_string_with_a_leading_at_of_the_bot_checks_in_too(onebot: OneBot) -> None:
    app = await onebot.start()
    qq = onebot.account()
    await qq.connect(onebot.url(app), TOKEN)
    await qq.push(group_message(QQ_BOT, GROUP, 20002001, f"[CQ:at,qq={QQ_BOT}] 打卡", name="Ann"))
    await qq.wait_for(lambda: qq.sent("send_group_msg"))
    assert "Ann checked in" in qq.sent("send_group_msg")[0]["message"][-1]["data"]["text"]


@pytest.mark.parametrize("how", ["wrong", "missing", "wrong-query"])
async def test_wrong_access_token_is_refused_and_nothing_is_processed(onebot: OneBot, how: str) -> None:
    app = await onebot.start()
    intruder = onebot.account()
    token = None if how == "missing" else "not-the-token"
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await intruder.connect(onebot.url(app), token, query_token=how == "wrong-query")
    assert refused.value.status == (401 if how == "missing" else 403)
    assert onebot.adapter(app).hub.connections == {}
    # the real bridge still works, and is the only thing that ever got through
    qq = onebot.account()
    await qq.connect(onebot.url(app), TOKEN, query_token=True)
    await qq.push(group_message(QQ_BOT, GROUP, 20002000, "签到"))
    await qq.wait_for(lambda: qq.sent("send_group_msg"))
    assert await processed(app) == 1
    assert onebot.adapter(app).server.refused == 1  # type: ignore[union-attr]


async def test_two_accounts_are_keyed_by_their_own_platform_and_answered_by_themselves(onebot: OneBot) -> None:
    app = await onebot.start()
    qq, wx = onebot.account(QQ_BOT), onebot.account(WX_BOT)
    await qq.connect(onebot.url(app), TOKEN)
    await wx.connect(onebot.url(app), TOKEN)
    await wx.push(group_message(WX_BOT, 777, 30003000, "签到", name="Wei"))
    await qq.push(group_message(QQ_BOT, GROUP, 20002000, "签到", name="Bob"))
    await qq.wait_for(lambda: qq.sent("send_group_msg") and wx.sent("send_group_msg"))
    assert [s["group_id"] for s in qq.sent("send_group_msg")] == [GROUP]
    assert [s["group_id"] for s in wx.sent("send_group_msg")] == [777]
    t = LedgerEntry.__table__.c
    async with app.db.connect() as conn:
        rows = {tuple(r) for r in await conn.execute(select(t.member_key, t.chat_key))}
    assert rows == {("qq:20002000", f"qq:{GROUP}"), ("wechat:30003000", "wechat:777")}


async def test_meta_events_are_health_not_campaign_events(onebot: OneBot) -> None:
    app = await onebot.start()
    qq = onebot.account()
    await qq.connect(onebot.url(app), TOKEN)
    await qq.push(heartbeat(QQ_BOT, 5000), group_message(QQ_BOT, GROUP, 20002000, "hello"))
    hub = onebot.adapter(app).hub
    await eventually(lambda: _true(hub.health[str(QQ_BOT)].events == 1))
    await eventually(lambda: _count(processed(app), 1))
    health = hub.health[str(QQ_BOT)]
    assert health.connected and health.online is True and health.good is True
    assert health.heartbeat_interval == 5.0
    assert await processed(app) == 1  # the message only: lifecycle and heartbeat are not events


async def test_invited_member_joins_with_the_operator_as_inviter(onebot: OneBot) -> None:
    app = await onebot.start()
    qq = onebot.account()
    await qq.connect(onebot.url(app), TOKEN)
    await qq.push(
        group_increase(QQ_BOT, GROUP, 40004000, operator_id=20002000, sub_type="invite"),
        group_increase(QQ_BOT, GROUP, 40004001, operator_id=0, sub_type="invite"),
    )
    await eventually(lambda: _count(processed(app, str(EventKind.MEMBER_JOINED)), 2))
    m = Membership.__table__.c
    async with app.db.connect() as conn:
        rows = await conn.execute(
            select(m.member_key, m.invited_by, m.invite_confidence).where(m.chat_key == f"qq:{GROUP}")
        )
        found = {r.member_key: (r.invited_by, r.invite_confidence) for r in rows}
    assert found["qq:40004000"] == ("qq:20002000", "exact")
    assert found["qq:40004001"] == (None, "unknown")  # NapCat's 0 is "unknown", never a self-invite


async def test_admin_role_comes_from_the_message_or_from_get_group_member_info(onebot: OneBot) -> None:
    app = await onebot.start()
    qq = onebot.account()
    qq.roles[(GROUP, 50005000)] = "admin"
    await qq.connect(onebot.url(app), TOKEN)
    for _ in range(2):  # no role in the message: asked once, then cached
        await qq.push(group_message(QQ_BOT, GROUP, 50005000, "/stats", name="Ada", role=None))
    await eventually(lambda: _count(processed(app), 2))
    assert len(qq.sent("get_group_member_info", group_id=GROUP, user_id=50005000)) == 1
    roles = onebot.adapter(app).roles
    assert roles.known(str(QQ_BOT), str(GROUP), "50005000") is True
    await qq.push(group_message(QQ_BOT, GROUP, 60006000, "hi", role="owner"))
    await eventually(lambda: _count(processed(app), 3))
    assert roles.known(str(QQ_BOT), str(GROUP), "60006000") is True
    assert len(qq.sent("get_group_member_info")) == 1


async def _true(value: bool) -> bool:
    return value


async def _count(awaitable: object, expected: int) -> bool:
    return await awaitable == expected  # type: ignore[misc]


async def test_a_stop_commits_every_event_already_received(onebot: OneBot) -> None:
    app = await onebot.start()
    qq = onebot.account()
    await qq.connect(onebot.url(app), TOKEN)
    hub = onebot.adapter(app).hub
    await qq.push(*(group_message(QQ_BOT, GROUP, 20_000_000 + i, "签到") for i in range(300)))
    await eventually(lambda: _true(hub.health[str(QQ_BOT)].events == 300))
    onebot.apps.remove(app)
    await app.stop()  # no bridge would ever send these again: they must be in the database
    db = storage_db.create_engine(app.config.bot.database)
    try:
        async with db.connect() as conn:
            done = (await conn.execute(select(func.count()).select_from(ProcessedEvent.__table__))).scalar_one()
    finally:
        await db.dispose()
    assert done == 300
