"""End to end: the fake QQ platform over HTTP ↔ Hearth's webhook, engine, outbox and sender."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.base import PermanentError, TemporaryError
from bot import actions as act
from tests.qq.conftest import QQ, eventually
from tests.qq.payloads import GROUP, MEMBER, c2c_message, group_message, robot_event

CHAT = f"qq:{GROUP}"


async def test_at_bot_checkin_gets_its_passive_reply_carrying_the_msg_id(qq: QQ) -> None:
    app = await qq.start()
    message = group_message("签到", qq.clock.now())
    resp = await qq.fake.call_webhook(qq.callback_url(app), message)
    assert await resp.json() == {"op": 12, "d": 0}
    await qq.fake.wait_for(lambda: qq.fake.sent)
    [(scope, openid, body)] = qq.fake.sent
    assert (scope, openid) == ("group", GROUP)
    assert body["msg_id"] == message["d"]["id"] and body["msg_seq"] == 1
    assert body["msg_type"] == 0 and "小明 checked in: +10 points" in body["content"]


async def test_a_sixth_reply_to_one_message_is_not_attempted_passively(qq: QQ) -> None:
    app = await qq.start()
    message = group_message("签到", qq.clock.now())
    await qq.fake.call_webhook(qq.callback_url(app), message)
    await qq.fake.wait_for(lambda: qq.fake.sent)
    adapter = app.adapters["qq"]
    cause = f"msg:{message['d']['id']}"
    for n in range(2, 6):
        await adapter.perform(act.SendMessage(CHAT, f"reply {n}", cause=cause), f"extra-{n}")
    assert [b["msg_seq"] for b in qq.fake.passive(message["d"]["id"])] == [1, 2, 3, 4, 5]
    with pytest.raises(PermanentError, match=r"already had its 5 replies.*does not allow proactive"):
        await adapter.perform(act.SendMessage(CHAT, "reply 6", cause=cause), "extra-6")
    assert len(qq.fake.passive(message["d"]["id"])) == 5
    assert not [r for r in qq.fake.refused if r[2].get("msg_id")]  # never tried passively
    # a retry of an earlier reply keeps its msg_seq (the platform deduplicates it): no new send
    await adapter.perform(act.SendMessage(CHAT, "reply 3", cause=cause), "extra-3")
    assert len(qq.fake.passive(message["d"]["id"])) == 5


async def test_beyond_the_window_a_group_that_allows_it_gets_a_proactive_message(qq: QQ) -> None:
    app = await qq.start()
    qq.fake.proactive_allowed.add(GROUP)
    await qq.fake.call_webhook(qq.callback_url(app), robot_event("GROUP_MSG_RECEIVE", qq.clock.now()))
    message = group_message("hello", qq.clock.now())
    await qq.fake.call_webhook(qq.callback_url(app), message)
    adapter = app.adapters["qq"]
    cause = f"msg:{message['d']['id']}"
    for n in range(1, 6):
        await adapter.perform(act.SendMessage(CHAT, f"reply {n}", cause=cause), f"r{n}")
    await adapter.perform(act.SendMessage(CHAT, "reply 6", cause=cause), "r6")
    [(_, openid, body)] = qq.fake.proactive()
    assert openid == GROUP and body["content"] == "reply 6" and "msg_seq" not in body


async def test_a_reply_after_five_minutes_is_not_sent_passively(qq: QQ) -> None:
    app = await qq.start()
    qq.fake.rate_limited = 1  # the first attempt is throttled; the sender retries later
    message = group_message("签到", qq.clock.now())
    await qq.fake.call_webhook(qq.callback_url(app), message)
    await qq.fake.wait_for(lambda: qq.fake.refused)
    assert qq.fake.refused[0][3] == 22009  # rate limit: a temporary error, retried
    qq.clock.advance(timedelta(minutes=6))
    app.sender.wake()
    await eventually(lambda: _failed(qq, app))
    [(content, error)] = await qq.outbox(app, "failed")
    assert "checked in" in content
    assert "5-minute reply window" in error and "does not allow proactive messages" in error
    assert qq.fake.passive(message["d"]["id"]) == []
    assert qq.fake.refused[-1][2].get("msg_id") is None  # the late attempt was proactive


async def _failed(qq: QQ, app: object) -> bool:
    return bool(await qq.outbox(app, "failed"))  # type: ignore[arg-type]


async def test_scheduled_announcement_without_proactive_permission_is_recorded_undeliverable(qq: QQ) -> None:
    campaigns = """
[campaigns.news]
type = "announcement"
schedule = "0 3 * * *"
text = "Daily news"
groups = ["qq:C9F778FE6ADF9D1D1DBE395BF744A33A", "qq:G2"]
"""
    app = await qq.start(campaigns=campaigns)
    qq.fake.proactive_allowed.add("G2")
    await qq.fake.call_webhook(qq.callback_url(app), robot_event("GROUP_MSG_REJECT", qq.clock.now(), GROUP))
    await qq.fake.call_webhook(qq.callback_url(app), robot_event("GROUP_MSG_RECEIVE", qq.clock.now(), "G2"))
    qq.clock.advance(timedelta(hours=1, minutes=1))
    await eventually(lambda: _failed(qq, app))
    await qq.fake.wait_for(lambda: qq.fake.proactive())
    [(content, error)] = await qq.outbox(app, "failed")
    assert content == "Daily news"
    assert error == (
        "not delivered: it answers no member message (a scheduled or proactive post), "
        f"and QQ group {GROUP} does not allow proactive messages"
    )
    assert [(o, b["content"]) for _, o, b in qq.fake.proactive()] == [("G2", "Daily news")]
    assert not qq.fake.refused  # the refused group was not even tried


async def test_direct_messages_only_inside_the_members_private_window(qq: QQ) -> None:
    app = await qq.start()
    adapter = app.adapters["qq"]
    user = "9D8C7B6A5F4E3D2C1B0A998877665544"
    with pytest.raises(PermanentError, match="within 60 minutes"):
        await adapter.perform(act.SendDirect(f"qq:{MEMBER}", "code ABC"), "dm-1")
    # the member writes in the group and privately (the same person: same union_openid)
    await qq.fake.call_webhook(qq.callback_url(app), group_message("hello", qq.clock.now()))
    private = c2c_message("hi bot", qq.clock.now(), user, union="UNION0A1B2C3D4E5F")
    await qq.fake.call_webhook(qq.callback_url(app), private)
    await adapter.perform(act.SendDirect(f"qq:{MEMBER}", "code ABC"), "dm-2")
    [(scope, openid, body)] = [s for s in qq.fake.sent if s[0] == "c2c"]
    assert (scope, openid, body["msg_id"], body["content"]) == ("c2c", user, private["d"]["id"], "code ABC")
    qq.clock.advance(timedelta(minutes=61))
    with pytest.raises(PermanentError, match="within 60 minutes"):
        await adapter.perform(act.SendDirect(f"qq:{MEMBER}", "code DEF"), "dm-3")


async def test_an_expired_token_is_refreshed_once_for_many_calls(qq: QQ) -> None:
    app = await qq.start()
    qq.fake.proactive_allowed.add(GROUP)
    adapter = app.adapters["qq"]
    await adapter.perform(act.SendMessage(CHAT, "one"), "t1")
    issued = qq.fake.tokens_issued
    qq.fake.expire_tokens()
    import asyncio

    await asyncio.gather(*(adapter.perform(act.SendMessage(CHAT, f"m{n}"), f"t-{n}") for n in range(5)))
    assert qq.fake.tokens_issued == issued + 1
    assert len(qq.fake.proactive()) == 6


async def test_rate_limits_are_temporary_and_unknown_chats_permanent(qq: QQ) -> None:
    app = await qq.start()
    qq.fake.proactive_allowed.add(GROUP)
    adapter = app.adapters["qq"]
    qq.fake.rate_limited = 1
    with pytest.raises(TemporaryError, match="rate limit"):
        await adapter.perform(act.SendMessage(CHAT, "x"), "k1")
    with pytest.raises(PermanentError):
        await adapter.perform(act.SendMessage("telegram:1", "x"), "k2")
    with pytest.raises(PermanentError, match="cannot kick member"):
        await adapter.perform(act.KickMember(CHAT, f"qq:{MEMBER}"), "k3")


async def test_stats_shows_the_groups_proactive_permission(qq: QQ) -> None:
    app = await qq.start()
    await qq.fake.call_webhook(qq.callback_url(app), robot_event("GROUP_MSG_REJECT", qq.clock.now()))
    ask = group_message("/stats", qq.clock.now(), role="owner")
    await qq.fake.call_webhook(qq.callback_url(app), ask)
    await qq.fake.wait_for(lambda: qq.fake.passive(ask["d"]["id"]))
    [reply] = qq.fake.passive(ask["d"]["id"])
    assert "Scheduled posts (proactive messages): not allowed by the group owner" in reply["content"]
    await qq.fake.call_webhook(qq.callback_url(app), robot_event("GROUP_MSG_RECEIVE", qq.clock.now()))
    again = group_message("/stats", qq.clock.now(), role="admin")
    await qq.fake.call_webhook(qq.callback_url(app), again)
    await qq.fake.wait_for(lambda: qq.fake.passive(again["d"]["id"]))
    assert "Scheduled posts (proactive messages): allowed" in qq.fake.passive(again["d"]["id"])[0]["content"]


async def test_a_refused_secret_stops_the_start_with_a_clear_error(qq: QQ) -> None:
    from bot.app import App
    from bot.config import parse

    text = qq.config_text().replace('secret = "DG5g3B4j9X2KOErG"', 'secret = "WrongSecret123"')
    app = App(parse(text, "qq-test.toml"), clock=qq.clock)
    with pytest.raises(RuntimeError, match=r"QQ refused app_id 102000000 .*check \[platforms.qq\]") as err:
        await app.start()
    assert "WrongSecret123" not in str(err.value)
    await app.stop()
