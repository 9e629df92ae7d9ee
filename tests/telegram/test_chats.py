"""Chat-level facts: group → supergroup migration, the bot removed and re-added, poll answers."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from adapters.base import PermanentError
from bot import actions as act
from bot.events import EventKind
from storage.models import Chat, LedgerEntry, Membership
from tests.telegram import updates as u
from tests.telegram.conftest import BOT_ID, Telegram

OLD = u.group()
NEW = u.supergroup(-1009876543210, "Small group")
SUPER = u.supergroup()
ALICE = u.user(111111111, "Alice")
BOB = u.user(5222222222, "Bob")


async def test_group_upgraded_to_supergroup_keeps_points_and_streaks(tg: Telegram) -> None:
    app = await tg.start()
    await tg.fake.push(tg.bot, u.message(OLD, ALICE, "/checkin"))
    await tg.fake.wait_for(lambda: tg.bot.sent(chat_id=OLD["id"]))
    ids = await tg.fake.push(tg.bot, *u.migrated(OLD, NEW, ALICE))
    await tg.fake.wait_for(lambda: tg.bot.confirmed_below > max(ids))
    await tg.fake.push(tg.bot, u.message(NEW, ALICE, "/me"))
    await tg.fake.wait_for(lambda: tg.bot.sent(chat_id=NEW["id"]))
    [me] = tg.bot.sent(chat_id=NEW["id"])
    assert "Alice: 10 points · streak 1" in html.unescape(me["text"])
    async with app.db.connect() as conn:
        ledger = (await conn.execute(select(LedgerEntry.__table__.c.chat_key))).scalars().all()
        chats = (await conn.execute(select(Chat.__table__.c.key))).scalars().all()
    assert ledger == [f"telegram:{NEW['id']}"]
    assert f"telegram:{OLD['id']}" not in chats and f"telegram:{NEW['id']}" in chats


async def test_a_send_to_the_old_group_id_goes_to_the_supergroup(tg: Telegram) -> None:
    app = await tg.start()
    tg.bot.migrated[OLD["id"]] = NEW["id"]  # Telegram reports the move before its service message came
    adapter = app.adapters["telegram"]
    await adapter.perform(act.SendMessage(f"telegram:{OLD['id']}", "news"), "k1")
    assert [p["text"] for p in tg.bot.sent(chat_id=NEW["id"])] == ["news"]
    await adapter.perform(act.SendMessage(f"telegram:{OLD['id']}", "more news"), "k2")
    assert [p["text"] for p in tg.bot.sent(chat_id=NEW["id"])] == ["news", "more news"]
    assert len(tg.bot.attempts("sendMessage")) == 3  # one refused at the old id, then straight to the new


async def test_bot_removed_stops_sending_and_readding_resumes(tg: Telegram) -> None:
    app = await tg.start()
    adapter = app.adapters["telegram"]
    chat = f"telegram:{SUPER['id']}"
    [uid] = await tg.fake.push(tg.bot, u.bot_status(SUPER, tg.bot.user, ALICE, "administrator", "kicked"))
    await tg.fake.wait_for(lambda: tg.bot.confirmed_below > uid)
    async with app.db.connect() as conn:
        active = (await conn.execute(select(Chat.__table__.c.active).where(Chat.__table__.c.key == chat))).scalar()
    assert active is False
    with pytest.raises(PermanentError):
        await adapter.perform(act.SendMessage(chat, "anyone?"), "k1")
    assert tg.bot.attempts("sendMessage") == []

    [uid] = await tg.fake.push(tg.bot, u.bot_status(SUPER, tg.bot.user, ALICE, "left", "member"))
    await tg.fake.wait_for(lambda: tg.bot.confirmed_below > uid)
    await adapter.perform(act.SendMessage(chat, "I'm back"), "k2")
    assert [p["text"] for p in tg.bot.sent(chat_id=SUPER["id"])] == ["I'm back"]


async def test_poll_answer_is_tied_to_the_chat_the_poll_was_sent_to(tg: Telegram) -> None:
    tg.bot.admins[SUPER["id"]] = [ALICE["id"], BOT_ID]
    app = await tg.start()
    adapter = app.adapters["telegram"]
    result = await adapter.perform(act.SendPoll(f"telegram:{SUPER['id']}", "Tea or coffee?", ("tea", "coffee")), "p1")
    [sent] = tg.bot.sent("sendPoll")
    assert sent["is_anonymous"] is False  # only non-anonymous polls report who answered
    answer = {
        "poll_answer": {
            "poll_id": result.data["poll_id"],
            "user": BOB,
            "option_ids": [1],
            "option_persistent_ids": ["o1"],
        }
    }
    stranger = {"poll_answer": {"poll_id": "not-ours", "user": BOB, "option_ids": [0], "option_persistent_ids": ["o0"]}}
    ids = await tg.fake.push(tg.bot, answer, stranger)
    await tg.fake.wait_for(lambda: tg.bot.confirmed_below > max(ids))
    assert await tg.processed(app, str(EventKind.POLL_ANSWERED)) == 1
    m = Membership.__table__.c
    async with app.db.connect() as conn:
        rows = (await conn.execute(select(m.chat_key).where(m.member_key == f"telegram:{BOB['id']}"))).scalars().all()
    assert rows == [f"telegram:{SUPER['id']}"]
