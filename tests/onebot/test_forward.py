"""Forward WebSocket: Hearth dials a fake bridge, reconnects after a loss, and the outbox keeps
what could not be sent meanwhile."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from adapters.base import TemporaryError
from adapters.onebot.decode import decode
from bot import actions as act
from storage.models import OutboxMessage
from tests.onebot.conftest import GROUP, QQ_BOT, TOKEN, OneBot, eventually, outbox
from tests.onebot.fake_onebot import FakeBridgeServer, group_message


def forward(url: str, token: str = TOKEN, self_id: str = "") -> str:
    line = f'self_id = "{self_id}"\n' if self_id else ""
    return f"""
[platforms.onebot]
mode = "forward"
access_token = "{token}"
reconnect_max = "1s"
group_messages_per_minute = 6000
messages_per_second = 1000
[[platforms.onebot.bots]]
url = "{url}"
platform = "qq"
{line}"""


async def test_hearth_connects_learns_the_account_and_answers_a_checkin(onebot: OneBot) -> None:
    qq = onebot.account()
    async with FakeBridgeServer(qq, TOKEN) as bridge:
        app = await onebot.start(forward(bridge.url))
        hub = onebot.adapter(app).hub
        await eventually(lambda: _ready(hub.caller(str(QQ_BOT)) is not None))
        await qq.push(group_message(QQ_BOT, GROUP, 20002000, "签到", name="Bob"))
        await qq.wait_for(lambda: qq.sent("send_group_msg"))
        assert "Bob checked in" in qq.sent("send_group_msg")[0]["message"][-1]["data"]["text"]
        assert hub.platform_of(str(QQ_BOT)) == "qq"


async def test_lost_connection_is_reconnected_and_the_outbox_holds_messages_meanwhile(onebot: OneBot) -> None:
    qq = onebot.account()
    async with FakeBridgeServer(qq, TOKEN) as bridge:
        app = await onebot.start(forward(bridge.url, self_id=str(QQ_BOT)))
        adapter = onebot.adapter(app)
        await eventually(lambda: _ready(adapter.hub.caller(str(QQ_BOT)) is not None))
        await bridge.drop()
        with pytest.raises(TemporaryError) as offline:  # the bridge is gone: try later, do not fail
            await adapter.perform(act.SendMessage(f"qq:{GROUP}", "hello"), "probe")
        assert offline.value.retry_after is not None
        await eventually(lambda: _ready(bridge.connects == 2 and adapter.hub.caller(str(QQ_BOT)) is not None))
        await qq.push(group_message(QQ_BOT, GROUP, 20002000, "签到"))
        await qq.wait_for(lambda: qq.sent("send_group_msg"))
        await eventually(lambda: _count(outbox(app, "sent"), 1))


async def test_a_reply_made_while_offline_waits_in_the_outbox_and_goes_out_on_reconnect(onebot: OneBot) -> None:
    qq = onebot.account()
    async with FakeBridgeServer(qq, TOKEN) as bridge:
        app = await onebot.start(forward(bridge.url, self_id=str(QQ_BOT)))
        adapter = onebot.adapter(app)
        await eventually(lambda: _ready(adapter.hub.caller(str(QQ_BOT)) is not None))
        bridge.down = True  # the bridge restarts: connections are refused for a while
        await bridge.drop()
        await eventually(lambda: _ready(adapter.hub.caller(str(QQ_BOT)) is None))
        # a check-in committed just before the loss: its reply is in the outbox, unsendable
        event = decode(group_message(QQ_BOT, GROUP, 20002000, "签到", name="Bob"), "qq", app.clock.now())
        assert event is not None
        await app.intake.submit([event])
        await eventually(lambda: _held(app))
        assert not qq.sent("send_group_msg") and await outbox(app, "failed") == 0
        bridge.down = False
        await qq.wait_for(lambda: qq.sent("send_group_msg"), within=60)
        assert "Bob checked in" in qq.sent("send_group_msg")[0]["message"][-1]["data"]["text"]
        await eventually(lambda: _count(outbox(app, "sent"), 1))


async def _held(app: object) -> bool:
    t = OutboxMessage.__table__.c
    async with app.db.connect() as conn:  # type: ignore[attr-defined]
        row = (await conn.execute(select(t.status, t.attempts, t.error))).one_or_none()
    # held, and the try that never left does not count against the outbox's limit of tries
    return row is not None and row.status == "pending" and row.attempts == 0 and "no OneBot bridge" in (row.error or "")


@pytest.mark.parametrize("refusal", ["http", "frame"])
async def test_a_bridge_that_refuses_the_token_is_logged_and_retried_never_used(onebot: OneBot, refusal: str) -> None:
    qq = onebot.account()
    async with FakeBridgeServer(qq, "the-bridges-own-token", refusal=refusal) as bridge:
        app = await onebot.start(forward(bridge.url))
        client = onebot.adapter(app).clients[0]
        await eventually(lambda: _ready(client.refusals >= 2))
        assert onebot.adapter(app).hub.connections == {}
        assert bridge.connects == 0 and bridge.refused >= 2


async def _ready(value: bool) -> bool:
    return value


async def _count(awaitable: object, expected: int) -> bool:
    return await awaitable == expected  # type: ignore[misc]
