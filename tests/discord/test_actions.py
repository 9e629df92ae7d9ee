"""Actions against the fake Discord: DMs, deletes, timeouts, kicks, reactions, long messages and
buttons, 429s, and Forbidden as a recorded permanent error."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from adapters.base import PermanentError
from bot import actions as act
from bot.events import EventKind
from storage.models import OutboxMessage
from tests.discord import payloads as p
from tests.discord.conftest import Discord, eventually

GENERAL = f"discord:{p.GENERAL}"
BOB = f"discord:{p.BOB['id']}"


async def test_direct_message_opens_the_dm_channel_once(dc: Discord) -> None:
    app = await dc.start()
    adapter = dc.adapter(app)
    first = await adapter.perform(act.SendDirect(BOB, "your coupon: FRIEND-1"), "dm-1")
    await adapter.perform(act.SendDirect(BOB, "again"), "dm-2")
    assert len(dc.fake.sent("POST", "/users/@me/channels")) == 1
    [channel] = dc.fake.dms
    assert [m["content"] for m in dc.fake.messages[channel]] == ["your coupon: FRIEND-1", "again"]
    assert first.message_id == dc.fake.messages[channel][0]["id"]


async def test_closed_dms_are_a_permanent_error(dc: Discord) -> None:
    app = await dc.start()
    dc.fake.closed_dms.add(p.BOB["id"])
    with pytest.raises(PermanentError, match="50007"):
        await dc.adapter(app).perform(act.SendDirect(BOB, "hi"), "dm")


async def test_delete_timeout_kick_and_react(dc: Discord) -> None:
    app = await dc.start()
    adapter = dc.adapter(app)
    sent = await adapter.perform(act.SendMessage(GENERAL, "soon gone"), "m")
    await adapter.perform(act.DeleteMessage(GENERAL, sent.message_id), "d1")
    await adapter.perform(act.DeleteMessage(GENERAL, sent.message_id), "d2")  # already gone: fine
    assert dc.fake.messages[p.GENERAL] == []

    before = datetime.now(UTC)
    await adapter.perform(act.MuteMember(GENERAL, BOB, seconds=600), "mute")
    until = datetime.fromisoformat(dc.fake.members[(p.GUILD, p.BOB["id"])]["communication_disabled_until"])
    assert timedelta(seconds=590) < until - before < timedelta(seconds=610)
    await adapter.perform(act.MuteMember(GENERAL, BOB), "mute-forever")  # Discord's longest: 28 days
    until = datetime.fromisoformat(dc.fake.members[(p.GUILD, p.BOB["id"])]["communication_disabled_until"])
    assert timedelta(days=27, hours=23) < until - before <= timedelta(days=28, minutes=1)
    await adapter.perform(act.UnmuteMember(GENERAL, BOB), "unmute")
    assert dc.fake.members[(p.GUILD, p.BOB["id"])] == {"communication_disabled_until": None}

    await adapter.perform(act.KickMember(GENERAL, BOB), "kick")
    assert dc.fake.kicked == [(p.GUILD, p.BOB["id"])]
    assert dc.fake.sent("DELETE", "/members/")[0].reason == "Hearth: kick"

    await adapter.perform(act.React(GENERAL, sent.message_id, "🔥"), "react")
    [put] = dc.fake.sent("PUT", "/reactions/")
    assert unquote(put.path).endswith("/reactions/🔥/@me")


async def test_forbidden_is_permanent_and_recorded_by_the_sender(dc: Discord) -> None:
    app = await dc.start()
    dc.fake.forbidden = [rf"DELETE /guilds/{p.GUILD}/members/"]
    with pytest.raises(PermanentError, match="forbidden: 403 \\(code 50013\\): Missing Permissions"):
        await dc.adapter(app).perform(act.KickMember(GENERAL, BOB), "kick")
    dc.fake.forbidden = [rf"POST /channels/{p.GENERAL}/messages"]
    d = p.message(p.GENERAL, p.BOB, "")
    d["content"] = "/top"  # a command typed as text (the message content reaches Hearth)
    await dc.fake.dispatch("MESSAGE_CREATE", d)
    await eventually(lambda: _failed(dc, app))
    t = OutboxMessage.__table__.c
    async with app.db.connect() as conn:
        [(status, attempts, error)] = (await conn.execute(select(t.status, t.attempts, t.error))).all()
    assert status == "failed" and attempts == 1 and "Missing Permissions" in error
    assert len(dc.fake.sent("POST", f"/channels/{p.GENERAL}/messages")) == 1  # never retried


async def _failed(dc: Discord, app) -> bool:
    return await dc.outbox(app, "failed") == 1


async def test_a_429_is_waited_out_by_discord_py_and_the_message_goes_once(dc: Discord) -> None:
    app = await dc.start()
    dc.fake.rate_limited = {rf"POST /channels/{p.GENERAL}/messages": 2}
    result = await dc.adapter(app).perform(act.SendMessage(GENERAL, "after the wait"), "rl")
    assert [m["content"] for m in dc.fake.messages[p.GENERAL]] == ["after the wait"]
    assert [c.status for c in dc.fake.sent("POST", f"/channels/{p.GENERAL}/messages")] == [429, 429, 200]
    assert result.message_id == dc.fake.messages[p.GENERAL][0]["id"]


async def test_a_long_message_is_split_with_its_buttons_last_and_long_button_data_comes_back(
    dc: Discord,
) -> None:
    app = await dc.start()
    adapter = dc.adapter(app)
    data = "quiz:" + "x" * 150  # longer than a custom_id may be
    buttons = ((act.Button("A", data=data), act.Button("Rules", url="https://example.com/rules")),)
    await adapter.perform(act.SendMessage(GENERAL, "line\n" * 600, buttons), "long")
    first, second = dc.fake.messages[p.GENERAL]
    assert len(first["content"]) <= 2000 and not first["components"]
    [row] = second["components"]
    press, link = row["components"]
    assert press["custom_id"].startswith("h#") and len(press["custom_id"]) <= 100
    assert link == {"type": 2, "style": 5, "label": "Rules", "url": "https://example.com/rules"}
    seen: list = []
    receiver = adapter.receiver
    complete = receiver.complete

    async def spy(batch):
        events = await complete(batch)
        seen.extend(events)
        return events

    receiver.complete = spy  # type: ignore[method-assign]
    await dc.fake.interact(p.button(press["custom_id"], p.BOB, second["id"]))
    await eventually(lambda: _pressed(dc, app))
    assert [e.button_data for e in seen] == [data]


async def _pressed(dc: Discord, app) -> bool:
    return await dc.processed(app, str(EventKind.BUTTON_CLICKED)) == 1


async def test_a_private_answer_whose_interaction_is_unknown_is_not_posted_publicly(dc: Discord) -> None:
    app = await dc.start()
    action = act.SendMessage(GENERAL, "Bob: 10 points", reply_to="interaction:1234567890123456789")
    with pytest.raises(PermanentError, match="not posted publicly"):
        await dc.adapter(app).perform(action, "lost")
    assert not dc.fake.messages.get(p.GENERAL)


async def test_the_token_never_reaches_logs_or_errors(dc: Discord, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = await dc.start()
    dc.fake.forbidden = [r"POST /channels/"]
    with pytest.raises(PermanentError) as err:
        await dc.adapter(app).perform(act.SendMessage(GENERAL, "x"), "t")
    assert p.TOKEN not in str(err.value) and p.TOKEN not in caplog.text and p.TOKEN not in repr(dc.adapter(app))
