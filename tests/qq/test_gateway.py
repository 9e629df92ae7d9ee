"""The WebSocket gateway against a fake gateway over a real WebSocket: Hello, Identify, heartbeats,
Resume, ``op`` 7 and 9, a refused Identify, and one connection per bot."""

from __future__ import annotations

import pytest

from adapters.qq.adapter import QQAdapter
from adapters.qq.settings import GROUP_AND_C2C_EVENT, GROUP_MEMBERS
from bot.app import App
from storage.models import ProcessedEvent
from tests.qq.conftest import QQ, eventually
from tests.qq.payloads import group_message


async def _processed(app: App) -> int:
    from sqlalchemy import func, select

    async with app.db.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(ProcessedEvent.__table__))).scalar_one())


async def test_identify_asks_only_for_the_intents_the_config_needs(qq: QQ) -> None:
    await qq.start("websocket")
    [identify] = qq.fake.identifies
    assert identify["intents"] == GROUP_AND_C2C_EVENT | GROUP_MEMBERS  # keyboard = false: no INTERACTION
    assert identify["token"].startswith("QQBot tok-") and identify["shard"] == [0, 1]


async def test_dispatches_reach_the_engine_and_heartbeats_carry_the_last_seq(qq: QQ) -> None:
    app = await qq.start("websocket")
    seq = await qq.fake.push(group_message("签到", qq.clock.now()))
    await eventually(lambda: _count_at_least(app, 1))
    await qq.fake.wait_for(lambda: seq in qq.fake.heartbeats)
    await qq.fake.wait_for(lambda: qq.fake.sent)  # the check-in got its passive reply
    assert qq.fake.sent[0][2]["msg_seq"] == 1


async def _count_at_least(app: App, n: int) -> bool:
    return await _processed(app) >= n


async def test_a_dropped_connection_resumes_and_gets_what_it_missed(qq: QQ) -> None:
    app = await qq.start("websocket")
    await qq.fake.push(group_message("one", qq.clock.now()))
    await eventually(lambda: _count_at_least(app, 1))
    await qq.fake.drop()
    await qq.fake.push(group_message("two", qq.clock.now()))  # sent while Hearth is away
    await qq.fake.wait_for(lambda: qq.fake.resumes)
    [resume] = qq.fake.resumes
    assert resume["seq"] == 2 and resume["session_id"].startswith("session-")
    await eventually(lambda: _count_at_least(app, 2))
    assert len(qq.fake.identifies) == 1


async def test_op7_reconnects_with_resume_and_op9_identifies_afresh(qq: QQ) -> None:
    app = await qq.start("websocket")
    await qq.fake.wait_for(lambda: qq.fake.online)
    await qq.fake.ask_reconnect()
    await qq.fake.wait_for(lambda: len(qq.fake.resumes) == 1 and qq.fake.online)
    await qq.fake.invalidate()
    await qq.fake.wait_for(lambda: len(qq.fake.identifies) == 2 and qq.fake.online)
    await qq.fake.push(group_message("after", qq.clock.now()))
    await eventually(lambda: _count_at_least(app, 1))


async def test_a_refused_identify_stops_start_with_a_clear_error(qq: QQ) -> None:
    qq.fake.granted_intents = GROUP_AND_C2C_EVENT  # GROUP_MEMBERS not granted to this bot
    with pytest.raises(RuntimeError, match=r"refused Identify.*GROUP_MEMBERS.*member_events = false"):
        await qq.start("websocket")
    assert len(qq.fake.identifies) == 1  # no retry loop


async def test_a_second_process_does_not_take_over_the_connection(qq: QQ) -> None:
    app = await qq.start("websocket")
    settings = app.config.platforms.qq
    assert settings is not None
    second = QQAdapter(settings, app.db, qq.clock)
    with pytest.raises(RuntimeError, match=r"another Hearth process .* holds the QQ gateway connection"):
        await second.start(app.intake)
    await second.stop()
    assert qq.fake.connections == 1 and qq.fake.online
