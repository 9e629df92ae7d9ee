"""Actions as API calls over a real socket: echo matching, timeouts, failures, roles of sockets."""

from __future__ import annotations

import asyncio
import json

import pytest

from adapters.base import PermanentError, TemporaryError
from bot import actions as act
from tests.onebot.conftest import GROUP, QQ_BOT, TOKEN, OneBot, eventually, processed
from tests.onebot.fake_onebot import group_message

FAST = f"""
[platforms.onebot]
access_token = "{TOKEN}"
listen = "127.0.0.1:0"
api_timeout = "300ms"
[[platforms.onebot.bots]]
self_id = "{QQ_BOT}"
platform = "qq"
"""
CHAT, BOB = f"qq:{GROUP}", "qq:20002000"


async def connected(onebot: OneBot, text: str = FAST) -> tuple:
    app = await onebot.start(text)
    qq = onebot.account()
    await qq.connect(onebot.url(app), TOKEN)
    adapter = onebot.adapter(app)
    await eventually(lambda: _ready(adapter.hub.caller(str(QQ_BOT)) is not None))
    return app, adapter, qq


async def test_each_action_becomes_its_api_call(onebot: OneBot) -> None:
    _, adapter, qq = await connected(onebot)
    sent = await adapter.perform(act.SendMessage(CHAT, "a [b] & c", reply_to="-5"), "k1")
    assert sent.message_id is not None
    await adapter.perform(act.SendDirect(BOB, "your coupon"), "k2")
    await adapter.perform(act.SendMessage("qq:private:20002000", "hi"), "k3")
    await adapter.perform(act.DeleteMessage(CHAT, "-1093221376"), "k4")
    await adapter.perform(act.MuteMember(CHAT, BOB, 600), "k5")
    await adapter.perform(act.UnmuteMember(CHAT, BOB), "k6")
    await adapter.perform(act.KickMember(CHAT, BOB), "k7")
    assert (await adapter.perform(act.AnswerButton("cb"), "k8")).message_id is None  # nothing to answer
    calls = [(c.action, c.params) for c in qq.calls]
    assert calls == [
        (
            "send_group_msg",
            {
                "group_id": GROUP,
                "message": [{"type": "reply", "data": {"id": "-5"}}, {"type": "text", "data": {"text": "a [b] & c"}}],
            },
        ),
        ("send_private_msg", {"user_id": 20002000, "message": [{"type": "text", "data": {"text": "your coupon"}}]}),
        ("send_private_msg", {"user_id": 20002000, "message": [{"type": "text", "data": {"text": "hi"}}]}),
        ("delete_msg", {"message_id": -1093221376}),
        ("set_group_ban", {"group_id": GROUP, "user_id": 20002000, "duration": 600}),
        ("set_group_ban", {"group_id": GROUP, "user_id": 20002000, "duration": 0}),
        ("set_group_kick", {"group_id": GROUP, "user_id": 20002000, "reject_add_request": False}),
    ]
    assert len({c.echo for c in qq.calls}) == len(qq.calls)  # every call its own echo


async def test_buttons_are_written_out_as_text(onebot: OneBot) -> None:
    _, adapter, qq = await connected(onebot)
    buttons = ((act.Button("Rules", url="https://example.com/rules"),), (act.Button("Yes", "y"), act.Button("No", "n")))
    await adapter.perform(act.SendMessage(CHAT, "Welcome!", buttons), "k")
    [sent] = qq.sent("send_group_msg")
    assert sent["message"][-1]["data"]["text"] == "Welcome!\nRules: https://example.com/rules\n1) Yes\n2) No"


async def test_unanswered_call_times_out_and_a_disconnect_fails_calls_at_once(onebot: OneBot) -> None:
    app, adapter, qq = await connected(onebot)
    qq.silent.add("send_group_msg")
    with pytest.raises(TemporaryError, match="did not answer in time"):
        await adapter.perform(act.SendMessage(CHAT, "x"), "k1")
    slow = onebot.adapter(app)
    slow.settings = slow.settings.model_copy(update={"api_timeout": slow.settings.api_timeout * 1000})
    waiting = asyncio.create_task(adapter.perform(act.SendMessage(CHAT, "y"), "k2"))
    await qq.wait_for(lambda: len(qq.sent("send_group_msg")) == 2)
    await qq.sockets[-1].close()
    with pytest.raises(TemporaryError, match="disconnected"):
        await asyncio.wait_for(waiting, 10)  # not after the 300 s timeout


async def test_refused_calls_are_permanent_and_risk_control_pauses(onebot: OneBot) -> None:
    _, adapter, qq = await connected(onebot)
    qq.fail["delete_msg"] = [(1404, "不支持的Api")]
    qq.fail["send_group_msg"] = [(1200, "Timeout: NTEvent serviceAndMethod:NodeIKernelMsgService/sendMsg")]
    with pytest.raises(PermanentError, match="1404"):
        await adapter.perform(act.DeleteMessage(CHAT, "5"), "k1")
    with pytest.raises(TemporaryError) as paused:
        await adapter.perform(act.SendMessage(CHAT, "x"), "k2")
    assert paused.value.retry_after is not None and paused.value.retry_after >= 60
    with pytest.raises(PermanentError):
        await adapter.perform(act.SendPoll(CHAT, "Lunch?", ("a", "b")), "k3")
    with pytest.raises(PermanentError):
        await adapter.perform(act.CreateInviteLink(CHAT, BOB), "k4")


async def test_junk_frames_never_stop_the_socket(onebot: OneBot) -> None:
    app, adapter, qq = await connected(onebot)
    ws = qq.sockets[-1]
    for junk in ("not json", "[1, 2]", '"text"', json.dumps({"post_type": "message", "self_id": QQ_BOT})):
        await ws.send_str(junk)
    await ws.send_str(json.dumps({"status": "ok", "retcode": 0, "data": None, "echo": "nobody-waits"}))
    await qq.push(group_message(QQ_BOT, GROUP, 20002000, "签到"))
    await qq.wait_for(lambda: qq.sent("send_group_msg"))
    assert await processed(app) == 1 and adapter.hub.skipped >= 1


async def test_separate_api_and_event_sockets_as_lagrange_sends_them(onebot: OneBot) -> None:
    app = await onebot.start(FAST)
    qq = onebot.account()
    await qq.connect(onebot.url(app), TOKEN, role="Event")
    await qq.connect(onebot.url(app), TOKEN, role="Api")
    hub = onebot.adapter(app).hub
    await eventually(lambda: _ready(len(hub.connections.get(str(QQ_BOT), [])) == 2))
    event_socket = qq.sockets[0]
    await event_socket.send_str(json.dumps(group_message(QQ_BOT, GROUP, 20002000, "签到")))
    await qq.wait_for(lambda: qq.sent("send_group_msg"))
    assert hub.caller(str(QQ_BOT)).role == "api"  # type: ignore[union-attr]


async def test_a_reconnecting_account_replaces_its_old_socket(onebot: OneBot) -> None:
    app = await onebot.start(FAST)
    qq = onebot.account()
    await qq.connect(onebot.url(app), TOKEN)
    await qq.connect(onebot.url(app), TOKEN)
    hub = onebot.adapter(app).hub
    await eventually(lambda: _ready(qq.sockets[0].closed))
    assert len(hub.connections[str(QQ_BOT)]) == 1 and hub.health[str(QQ_BOT)].connected
    await qq.push(group_message(QQ_BOT, GROUP, 20002000, "签到"))
    await qq.wait_for(lambda: qq.sent("send_group_msg"))


async def _ready(value: bool) -> bool:
    return value
