"""Daily check-in, as members see it in the chat."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.harness import Conversation

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONFIG = """
[bot]
timezone = "Asia/Shanghai"
[platforms.sandbox]
[campaigns.daily]
type = "checkin"
aliases = ["签到", "打卡"]
points = 10
[[campaigns.daily.streak_rewards]]
days = 3
points = 50
"""


@pytest.fixture
async def chat():
    conv = await Conversation.open(CONFIG, datetime(2026, 3, 1, 8, 0, tzinfo=SHANGHAI))
    yield conv
    await conv.close()


async def test_member_checks_in_and_gets_points(chat: Conversation) -> None:
    [reply] = await chat.say("alice", "/checkin")
    assert "alice checked in" in reply and "+10" in reply and "Streak: 1" in reply
    assert await chat.points("alice") == 10


async def test_alias_counts_and_second_checkin_same_day_is_refused_with_the_wait(chat: Conversation) -> None:
    await chat.say("alice", "签到")
    [again] = await chat.say("alice", "/checkin", at=datetime(2026, 3, 1, 20, 48, tzinfo=SHANGHAI))
    assert "already checked in" in again and "3 h 12 min" in again
    assert await chat.points("alice") == 10


async def test_alias_must_be_the_whole_message(chat: Conversation) -> None:
    assert await chat.say("alice", "我想签到") == []
    assert await chat.points("alice") == 0


async def test_streak_reward_on_the_third_day(chat: Conversation) -> None:
    for day in range(3):
        replies = await chat.say("bob", "打卡", at=datetime(2026, 3, 1 + day, 9, 0, tzinfo=SHANGHAI))
    assert "Streak: 3" in replies[0] and "3-day streak" in replies[0]
    assert await chat.points("bob") == 3 * 10 + 50


async def test_missing_a_day_breaks_the_streak(chat: Conversation) -> None:
    await chat.say("bob", "/checkin", at=datetime(2026, 3, 1, 9, tzinfo=SHANGHAI))
    [reply] = await chat.say("bob", "/checkin", at=datetime(2026, 3, 3, 9, tzinfo=SHANGHAI))
    assert "Streak: 1" in reply


async def test_me_and_top(chat: Conversation) -> None:
    await chat.say("alice", "/checkin")
    await chat.say("bob", "/checkin")
    await chat.say("bob", "/checkin", at=datetime(2026, 3, 2, 9, tzinfo=SHANGHAI))
    [me] = await chat.say("bob", "/me")
    assert "20 points" in me and "streak 2" in me and "best 2" in me
    [top] = await chat.say("alice", "/top")
    assert top.index("bob") < top.index("alice")
    [board] = await chat.say("carol", "/leaderboard")
    assert board == top


async def test_redelivered_event_changes_nothing(chat: Conversation) -> None:
    event = chat.event("say", "alice", text="/checkin")
    first = await chat.deliver(event)
    again = await chat.deliver(event, event)
    assert len(first) == 1 and again == []
    assert await chat.points("alice") == 10


async def test_edited_message_and_bots_do_not_check_in(chat: Conversation) -> None:
    from dataclasses import replace

    from bot.events import User

    edited = replace(chat.event("say", "alice", text="/checkin"), edited=True)
    bot = chat.event("say", "robot", text="/checkin")
    bot = replace(bot, user=User("sandbox", "robot", "robot", is_bot=True))
    assert await chat.deliver(edited, bot) == []
    assert await chat.ledger() == []


async def test_unknown_command_is_ignored_and_help_lists_commands(chat: Conversation) -> None:
    assert await chat.say("alice", "/frobnicate") == []
    [help_text] = await chat.say("alice", "/help")
    assert "/checkin" in help_text and "/top" in help_text


async def test_streak_survives_with_grace_days() -> None:
    conv = await Conversation.open(
        CONFIG.replace("points = 10", "points = 10\ngrace_days = 1"), datetime(2026, 3, 1, 8, tzinfo=SHANGHAI)
    )
    try:
        await conv.say("carol", "/checkin")
        [reply] = await conv.say("carol", "/checkin", at=datetime(2026, 3, 3, 8, tzinfo=SHANGHAI))
        assert "Streak: 2" in reply
    finally:
        await conv.close()


async def test_scheduled_announcement_posts_in_group_timezone() -> None:
    toml = CONFIG + '\n[campaigns.morning]\ntype = "announcement"\nschedule = "0 9 * * *"\ntext = "Morning, {group}!"\n'
    conv = await Conversation.open(toml, datetime(2026, 3, 1, 8, 0, tzinfo=SHANGHAI))
    try:
        posted = await conv.advance(timedelta(days=2))
        assert posted == ["Morning, Group one!", "Morning, Group one!"]
    finally:
        await conv.close()
