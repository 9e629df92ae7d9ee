"""Failure paths: 429 storms, crashes before confirming, 403s, 5xx, and the token never leaking."""

from __future__ import annotations

import html
import logging

import pytest
from sqlalchemy import select

from adapters.base import PermanentError
from bot import actions as act
from bot.config import parse
from storage.models import Chat, LedgerEntry
from tests.telegram import updates as u
from tests.telegram.conftest import TOKEN, Telegram, eventually

SUPER = u.supergroup()
SUPER_ID = SUPER["id"]
CHAT = f"telegram:{SUPER_ID}"
NAMES = ["Ann", "Ben", "Cid", "Dee", "Eve"]


def delivered_texts(tg: Telegram) -> str:
    return "\n".join(html.unescape(p["text"]) for p in tg.bot.sent(chat_id=SUPER_ID))


async def test_429_storm_every_message_delivered_none_early_none_twice(tg: Telegram) -> None:
    await tg.start()
    tg.bot.storm(seconds=2.5, retry_after=1)
    members = [u.user(600000000 + i, name) for i, name in enumerate(NAMES)]
    await tg.fake.push(tg.bot, *(u.message(SUPER, m, "/checkin") for m in members))
    await tg.fake.wait_for(lambda: all(f"{n} checked in" in delivered_texts(tg) for n in NAMES), within=60)
    refused = [c for c in tg.bot.attempts("sendMessage") if c.status == 429]
    assert refused, "the storm answered 429 at least once"
    assert tg.bot.early == []  # no request to the chat before its retry_after had passed
    text = delivered_texts(tg)
    assert all(text.count(f"{n} checked in") == 1 for n in NAMES)


async def _all_sent(tg: Telegram, app) -> bool:
    return await tg.outbox(app, "sent") == 1


async def test_crash_before_confirming_rereads_updates_and_changes_nothing_twice(tg: Telegram) -> None:
    tg.bot.refuse_confirmations = True  # the network fails right after delivery: nothing gets confirmed
    first = await tg.start()
    [uid] = await tg.fake.push(tg.bot, u.message(SUPER, u.user(1, "Ann"), "/checkin"))
    await tg.fake.wait_for(lambda: tg.bot.sent(chat_id=SUPER_ID))
    await eventually(lambda: _all_sent(tg, first))
    await tg.stop(first)  # the "crash": the update was committed and answered, never confirmed
    assert tg.bot.served[uid] == 1 and tg.bot.confirmed_below <= uid

    tg.bot.refuse_confirmations = False
    second = await tg.start()
    await tg.fake.wait_for(lambda: tg.bot.served[uid] == 2 and tg.bot.confirmed_below > uid)
    assert await tg.processed(second) == 1
    async with second.db.connect() as conn:
        points = (await conn.execute(select(LedgerEntry.__table__.c.points))).scalars().all()
    assert points == [10]
    assert len(tg.bot.sent(chat_id=SUPER_ID)) == 1


async def test_server_errors_on_send_are_retried_until_delivered(tg: Telegram) -> None:
    await tg.start()
    tg.bot.fail("sendMessage", times=2, status=502)
    await tg.fake.push(tg.bot, u.message(SUPER, u.user(2, "Ben"), "/checkin"))
    await tg.fake.wait_for(lambda: tg.bot.sent(chat_id=SUPER_ID), within=60)
    assert [c.status for c in tg.bot.attempts("sendMessage")] == [502, 502, 200]


async def test_polling_survives_server_errors(tg: Telegram) -> None:
    tg.bot.fail("getUpdates", times=2, status=500, description="Internal Server Error")
    await tg.start()
    await tg.fake.push(tg.bot, u.message(SUPER, u.user(3, "Cid"), "/checkin"))
    await tg.fake.wait_for(lambda: tg.bot.sent(chat_id=SUPER_ID), within=60)


async def test_bot_kicked_403_is_permanent_and_marks_the_chat_inactive(tg: Telegram) -> None:
    app = await tg.start()
    tg.bot.kicked.add(SUPER_ID)
    adapter = app.adapters["telegram"]
    with pytest.raises(PermanentError, match="kicked"):
        await adapter.perform(act.SendMessage(CHAT, "hello"), "k1")
    async with app.db.connect() as conn:
        active = (await conn.execute(select(Chat.__table__.c.active).where(Chat.__table__.c.key == CHAT))).scalar()
    assert active is False
    with pytest.raises(PermanentError, match="not in"):
        await adapter.perform(act.SendMessage(CHAT, "again"), "k2")
    assert len(tg.bot.attempts("sendMessage")) == 1  # the second was refused without a call


async def test_the_token_never_appears_in_errors_logs_or_reprs(tg: Telegram, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    app = await tg.start()
    adapter = app.adapters["telegram"]
    tg.bot.fail("sendMessage", times=1, status=400, description="echo")  # the server quotes the URL
    with pytest.raises(PermanentError) as caught:
        await adapter.perform(act.SendMessage(CHAT, "hello"), "k1")
    assert "/bot***/sendMessage" in str(caught.value)
    tg.bot.fail("sendMessage", times=1, status=502, description="echo")
    await tg.fake.push(tg.bot, u.message(SUPER, u.user(4, "Dee"), "/checkin"))
    await tg.fake.wait_for(lambda: tg.bot.sent(chat_id=SUPER_ID), within=60)
    secret = TOKEN.partition(":")[2]
    config = parse(tg.config_text(), "t.toml")
    for text in (str(caught.value), repr(adapter), repr(config), repr(config.platforms.telegram), caplog.text):
        assert secret not in text
    assert "/bot***/" in caplog.text  # the retried 502 was logged, scrubbed
