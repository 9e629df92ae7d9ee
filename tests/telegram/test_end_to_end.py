"""End to end: fake Telegram over HTTP ↔ aiogram ↔ the real Hearth App (engine, outbox, sender)."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from adapters.telegram.settings import ALLOWED_UPDATES
from bot import actions as act
from bot.events import EventKind
from storage.models import LedgerEntry, Membership
from tests.telegram import updates as u
from tests.telegram.conftest import BOT_ID, Telegram

SUPER = u.supergroup()
SUPER_ID = SUPER["id"]
ALICE = u.user(111111111, "Alice")
BOB = u.user(5222222222, "Bob")
CAROL = u.user(333333333, "Carol")


async def test_checkin_in_a_supergroup_is_answered_there_as_a_reply(tg: Telegram) -> None:
    app = await tg.start()
    tricky = u.user(444444444, "Al <b>&amp;")
    update = u.message(SUPER, tricky, "/checkin")
    await tg.fake.push(tg.bot, update)
    await tg.fake.wait_for(lambda: tg.bot.sent(chat_id=SUPER_ID))
    [reply] = tg.bot.sent(chat_id=SUPER_ID)
    assert reply["parse_mode"] == "HTML"
    assert "Al &lt;b&gt;&amp;amp; checked in: +10 points" in reply["text"]  # member text escaped, never markup
    assert "Al <b>&amp; checked in" in html.unescape(reply["text"])
    assert reply["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert tg.bot.allowed_updates == list(ALLOWED_UPDATES)  # asked for explicitly (chat_member is opt-in)
    async with app.db.connect() as conn:
        rows = (await conn.execute(select(LedgerEntry.__table__.c.member_key, LedgerEntry.__table__.c.chat_key))).all()
    assert [tuple(r) for r in rows] == [("telegram:444444444", f"telegram:{SUPER_ID}")]


async def test_command_for_another_bot_is_ignored_and_ours_is_answered(tg: Telegram) -> None:
    await tg.start()
    other = u.message(SUPER, ALICE, "/checkin@OtherBot")
    ours = u.message(SUPER, BOB, "/checkin@HearthBot")
    [_, last] = await tg.fake.push(tg.bot, other, ours)
    await tg.fake.wait_for(lambda: tg.bot.confirmed_below > last and tg.bot.sent(chat_id=SUPER_ID))
    [reply] = tg.bot.sent(chat_id=SUPER_ID)
    assert "Bob checked in" in reply["text"] and "Alice" not in reply["text"]


async def test_button_press_is_answered_exactly_once(tg: Telegram) -> None:
    app = await tg.start()
    press = u.callback(SUPER, BOB, "quiz:1:a")
    cid = press["callback_query"]["id"]
    await tg.fake.push(tg.bot, press)
    await tg.fake.wait_for(lambda: tg.bot.sent("answerCallbackQuery"))
    assert [a["callback_query_id"] for a in tg.bot.sent("answerCallbackQuery")] == [cid]
    assert await tg.processed(app, str(EventKind.BUTTON_CLICKED)) == 1
    # a campaign's late answer for the same press is a no-op, not a second (failing) call
    adapter = app.adapters["telegram"]
    await adapter.perform(act.AnswerButton(cid, "thanks"), "late")
    assert len(tg.bot.attempts("answerCallbackQuery")) == 1


@pytest.mark.parametrize(
    ("bot_is_admin", "one_batch"),
    [(True, False), (False, True)],
    ids=["bot-admin-service-message-first", "not-admin-same-batch"],
)
async def test_joining_through_the_inviters_link_is_one_join_with_the_inviter(
    tg: Telegram, bot_is_admin: bool, one_batch: bool
) -> None:
    tg.bot.admins[SUPER_ID] = [ALICE["id"], BOT_ID] if bot_is_admin else []
    app = await tg.start()
    adapter = app.adapters["telegram"]
    alice = f"telegram:{ALICE['id']}"
    result = await adapter.perform(act.CreateInviteLink(f"telegram:{SUPER_ID}", alice, "Spring"), "link-1")
    [created] = tg.bot.sent("createChatInviteLink")
    assert len(created["name"]) <= 32 and created["name"].endswith(f"ref:{ALICE['id']}")
    link = {
        "invite_link": result.data["link"],
        "creator": tg.bot.user,
        "creates_join_request": False,
        "is_primary": False,
        "is_revoked": False,
        "name": created["name"],
    }
    again = await adapter.perform(act.CreateInviteLink(f"telegram:{SUPER_ID}", alice, "Spring"), "link-2")
    assert again.data["link"] == result.data["link"] and len(tg.bot.sent("createChatInviteLink")) == 1

    service, member_update = u.joined_by_link(SUPER, CAROL, link)
    if one_batch:
        ids = await tg.fake.push(tg.bot, service, member_update)
    else:  # the service message is committed before chat_member even arrives
        ids = await tg.fake.push(tg.bot, service)
        await tg.fake.wait_for(lambda: tg.bot.confirmed_below > max(ids))
        ids = await tg.fake.push(tg.bot, member_update)
    await tg.fake.wait_for(lambda: tg.bot.confirmed_below > max(ids))
    assert await tg.processed(app, str(EventKind.MEMBER_JOINED)) == 1
    m = Membership.__table__.c
    async with app.db.connect() as conn:
        row = (
            await conn.execute(
                select(m.invited_by, m.invite_code, m.invite_confidence, m.active).where(
                    m.chat_key == f"telegram:{SUPER_ID}", m.member_key == f"telegram:{CAROL['id']}"
                )
            )
        ).one()
    assert tuple(row) == (alice, result.data["link"], "exact", True)


async def test_join_announced_only_by_a_service_message_still_counts(tg: Telegram) -> None:
    app = await tg.start()  # the bot is no admin here, so Telegram sends no chat_member updates
    [service, _] = u.joined_by_link(SUPER, CAROL, {})
    [uid] = await tg.fake.push(tg.bot, service)
    await tg.fake.wait_for(lambda: tg.bot.confirmed_below > uid)
    assert await tg.processed(app, str(EventKind.MEMBER_JOINED)) == 1


async def test_admin_status_comes_from_get_chat_administrators_and_is_cached(tg: Telegram) -> None:
    tg.bot.admins[SUPER_ID] = [ALICE["id"], BOT_ID]
    app = await tg.start()
    first = u.message(SUPER, ALICE, "hello")
    second = u.message(SUPER, BOB, "hi")
    [_, last] = await tg.fake.push(tg.bot, first, second)
    await tg.fake.wait_for(lambda: tg.bot.confirmed_below > last)
    adapter = app.adapters["telegram"]
    assert adapter.admins.requests == 1 and len(tg.bot.attempts("getChatAdministrators")) == 1
    admins = await adapter.admins.admins(SUPER_ID)
    assert admins == frozenset({str(ALICE["id"]), str(BOT_ID)})
