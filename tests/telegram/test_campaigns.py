"""Quizzes, polls and the welcome gate end to end on Telegram: fake Bot API over HTTP ↔ aiogram
↔ the real Hearth App, with the platform's own forms — inline buttons (callback queries),
native polls (``sendPoll`` / ``poll_answer``) and restrictions (``restrictChatMember``)."""

from __future__ import annotations

import asyncio
import html
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.app import App
from bot.clock import ManualClock
from bot.config import parse
from storage.models import OutboxMessage
from tests.telegram import updates as u
from tests.telegram.conftest import BOT_ID, Telegram, eventually

SUPER = u.supergroup()
SUPER_ID = SUPER["id"]
ALICE = u.user(111111111, "Alice")
BOB = u.user(5222222222, "Bob")
CAROL = u.user(333333333, "Carol")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


class SteppedClock(ManualClock):
    """Time moves only when the test says so; loops waiting on it poll every 20 ms of real time."""

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(min(max(seconds, 0.0), 0.02))


async def started(tg: Telegram, campaigns: str, clock: SteppedClock) -> App:
    app = App(parse(tg.config_text(extra='\n[scheduler]\ntick = "1s"\n' + campaigns), "tg.toml"), clock=clock)
    await app.start()
    tg.apps.append(app)
    return app


async def deliver(tg: Telegram, *updates: dict) -> None:
    ids = await tg.fake.push(tg.bot, *updates)
    await tg.fake.wait_for(lambda: tg.bot.confirmed_below > max(ids))


async def sent_poll_marked(app: App) -> bool:
    c = OutboxMessage.__table__.c
    query = select(c.platform_message_id).where(c.action == "send_poll", c.status == "sent")
    async with app.db.connect() as conn:
        return (await conn.execute(query)).first() is not None


def group_texts(tg: Telegram) -> list[str]:
    return [html.unescape(m["text"]) for m in tg.bot.sent(chat_id=SUPER_ID)]


async def test_a_native_poll_collects_votes_and_posts_the_results(tg: Telegram) -> None:
    poll = """
[campaigns.tea]
type = "poll"
schedule = "0 10 * * mon"
question = "Tea or coffee?"
options = ["Tea", "Coffee"]
duration = "1h"
"""
    clock = SteppedClock(T0 + timedelta(minutes=59))
    app = await started(tg, poll, clock)
    await deliver(tg, u.message(SUPER, ALICE, "Morning!", date=int(clock.now().timestamp())))  # the bot knows the group
    clock.set(T0 + timedelta(hours=1, seconds=1))  # 10:00: the poll opens
    await tg.fake.wait_for(lambda: tg.bot.sent("sendPoll"))
    [sent] = tg.bot.sent("sendPoll")
    assert sent["chat_id"] == SUPER_ID and sent["question"] == "Tea or coffee?"
    assert [o["text"] for o in sent["options"]] == ["Tea", "Coffee"] and sent["is_anonymous"] is False
    poll_id = f"poll{[c.method for c in tg.bot.calls].index('sendPoll') + 1}"  # as the fake numbers them
    await eventually(lambda: sent_poll_marked(app))  # the vote needs the send recorded (milliseconds, live)

    def vote(user: dict, option: int) -> dict:
        answer = {"poll_id": poll_id, "user": user, "option_ids": [option], "option_persistent_ids": [f"o{option}"]}
        return {"poll_answer": answer}

    await deliver(tg, vote(ALICE, 1), vote(BOB, 1), vote(CAROL, 0))
    clock.set(T0 + timedelta(hours=2, seconds=2))  # 11:00: it closes
    await tg.fake.wait_for(lambda: any("Tea or coffee?" in t for t in group_texts(tg)))
    [results] = [t for t in group_texts(tg) if "Tea or coffee?" in t]
    assert results.splitlines()[1:] == ["Coffee — 2 (67%) ███████", "Tea — 1 (33%) ███", "3 vote(s) in total."]


async def test_a_quiz_started_by_an_admin_is_answered_by_button(tg: Telegram) -> None:
    quiz = """
[campaigns.trivia]
type = "quiz"
[[campaigns.trivia.questions]]
text = "Where is the Louvre?"
choices = ["Berlin", "Paris", "Rome"]
correct = 2
"""
    tg.bot.admins[SUPER_ID] = [ALICE["id"], BOT_ID]
    clock = SteppedClock(T0)
    await started(tg, quiz, clock)
    await deliver(tg, u.message(SUPER, BOB, "/quiz start trivia", date=int(T0.timestamp())))
    await tg.fake.wait_for(lambda: group_texts(tg))
    assert group_texts(tg) == ["This command is for the group's admins."]  # Bob is no admin here
    await deliver(tg, u.message(SUPER, ALICE, "/quiz start trivia", date=int(T0.timestamp())))
    await tg.fake.wait_for(lambda: any("Louvre" in t for t in group_texts(tg)))
    [question] = [m for m in tg.bot.sent(chat_id=SUPER_ID) if "Louvre" in m["text"]]
    buttons = [b for row in question["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == ["1) Berlin", "2) Paris", "3) Rome"]
    clock.set(T0 + timedelta(seconds=5))
    await deliver(tg, u.callback(SUPER, CAROL, buttons[0]["callback_data"]))  # wrong, and final
    await deliver(tg, u.callback(SUPER, BOB, buttons[1]["callback_data"]))
    await tg.fake.wait_for(lambda: any("got it" in t for t in group_texts(tg)))
    assert "✅ Bob got it! The answer: 2) Paris (+10)" in group_texts(tg)
    assert len(tg.bot.sent("answerCallbackQuery")) == 2  # every press is answered (the spinner stops)


async def test_the_welcome_gate_restricts_and_a_button_press_lets_the_newcomer_in(tg: Telegram) -> None:
    welcome = """
[campaigns.hello]
type = "welcome"
batch_window = "0s"
[campaigns.hello.verify]
mode = "rules"
timeout = "5m"
"""
    tg.bot.admins[SUPER_ID] = [ALICE["id"], BOT_ID]
    clock = SteppedClock(T0)
    await started(tg, welcome, clock)
    service, member_update = u.joined_by_link(SUPER, CAROL, {}, date=int(T0.timestamp()))
    del member_update["chat_member"]["invite_link"]  # joined by the group's public link
    await deliver(tg, service, member_update)
    await tg.fake.wait_for(lambda: tg.bot.sent("restrictChatMember") and group_texts(tg))
    [mute] = tg.bot.sent("restrictChatMember")
    assert mute["user_id"] == CAROL["id"] and mute["permissions"]["can_send_messages"] is False
    [gate] = [m for m in tg.bot.sent(chat_id=SUPER_ID)]
    assert html.unescape(gate["text"]).startswith("👋 Carol, welcome to Coffee & Tea! Please read the rules")
    [[agree]] = gate["reply_markup"]["inline_keyboard"]
    clock.set(T0 + timedelta(seconds=20))  # (the sender's per-chat pace runs on this clock too)
    await deliver(tg, u.callback(SUPER, CAROL, agree["callback_data"], message_id=1001))
    await tg.fake.wait_for(lambda: len(tg.bot.sent("restrictChatMember")) == 2 and len(group_texts(tg)) == 2)
    assert all(tg.bot.sent("restrictChatMember")[1]["permissions"].values())  # every permission back
    assert [a.get("text") for a in tg.bot.sent("answerCallbackQuery")] == ["✅ Thank you — you can chat now!"]
    assert group_texts(tg)[1].startswith("👋 Welcome to Coffee & Tea, Carol!")
