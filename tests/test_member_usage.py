"""Members' commands with bad arguments get a short usage hint and change nothing; commands
that take no arguments ignore extra words ("/checkin please" checks in)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from storage.models import Base
from tests.harness import Conversation

START = datetime(2026, 3, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
CONFIG = """
[bot]
timezone = "Asia/Shanghai"
admins = ["sandbox:boss"]
[platforms.sandbox]
[coupons.friend10]
generate = 5
[campaigns.daily]
type = "checkin"
[campaigns.trivia]
type = "quiz"
[[campaigns.trivia.questions]]
text = "Capital of France?"
answers = ["Paris"]
[campaigns.bring]
type = "referral"
inviter_reward = { coupon_pool = "friend10" }
[campaigns.hello]
type = "welcome"
[[campaigns.hello.onboarding]]
day = 0
text = "Welcome aboard!"
"""
BOOKKEEPING = {"processed_events", "outbox", "members", "memberships", "chats", "sandbox_messages", "alembic_version"}


async def state(conv: Conversation) -> dict[str, int]:
    async with conv.db.connect() as conn:
        return {
            t.name: int((await conn.execute(select(func.count()).select_from(t))).scalar_one())
            for t in Base.metadata.sorted_tables
            if t.name not in BOOKKEEPING
        }


@pytest.fixture
async def chat():
    conv = await Conversation.open(CONFIG, START)
    yield conv
    await conv.close()


@pytest.mark.parametrize(
    ("who", "command", "hint"),
    [
        ("bob", "/quiz", "Usage: /quiz top [NAME] [season]"),
        ("bob", "/quiz play", "Usage: /quiz top [NAME] [season]"),
        ("bob", "/quiz top 2026 03", "Usage: /quiz top [NAME] [season]"),
        ("bob", "/quiz top trivia 2026 03", "Usage: /quiz top [NAME] [season]"),
        ("bob", "/onboarding", "Usage: /onboarding on|off"),
        ("bob", "/onboarding maybe", "Usage: /onboarding on|off"),
        ("boss", "/quiz", "Usage: /quiz top [NAME] [season] · /quiz start NAME · /quiz stop"),
        ("boss", "/redeem", "Usage: /redeem CODE"),
        ("boss", "/redeem TWO CODES", "Usage: /redeem CODE"),
    ],
)
async def test_bad_arguments_get_a_usage_hint_and_change_nothing(
    chat: Conversation, who: str, command: str, hint: str
) -> None:
    await chat.say(who, "hello")
    before = await state(chat)
    assert await chat.say(who, command) == [hint]
    after = await state(chat)
    if command.startswith("/redeem"):  # an admin command is audited, with the outcome "usage"
        assert after.pop("audit_log") == before.pop("audit_log") + 1
    assert after == before


async def test_commands_without_arguments_ignore_extra_words(chat: Conversation) -> None:
    [checked] = await chat.say("bob", "/checkin please")
    assert checked.startswith("✅ bob checked in")
    [me] = await chat.say("bob", "/me now")
    assert me.startswith("bob: 10 points")
    [link] = await chat.say("bob", "/invite my friends")
    assert link.startswith("bob, your personal invite to Group one: bob@g1")


async def test_nothing_a_member_types_crashes_or_leaks(chat: Conversation) -> None:
    nasty = ["/quiz top " + "9" * 3000, "/points add @{name.__class__} 5 x", "/help {0!r}", "/\u202e", "/quiz top {x}"]
    for text in nasty:
        for reply in await chat.say("bob", text):
            assert "Traceback" not in reply and "Error" not in reply and "__class__" not in reply
    assert chat.engine.failed == 0
