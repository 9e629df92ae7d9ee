"""Keyword rules ([[rules]]) as members see them in the chat."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from adapters.base import Feature
from bot import actions as act
from bot.config import ConfigError, parse
from bot.simulate import RecordingAdapter
from storage.models import MemberTag
from tests.harness import Conversation

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)  # a Monday
HEAD = """
[bot]
timezone = "Asia/Shanghai"
admins = ["sandbox:boss"]
[platforms.sandbox]
"""


async def opened(rules: str, start: datetime = START, **kwargs: object) -> Conversation:
    return await Conversation.open(HEAD + rules, start, **kwargs)


async def test_keyword_reply_needs_the_whole_message() -> None:
    conv = await opened(
        """
[[rules]]
name = "price"
keywords = ["price", "多少钱"]
reply = "{name}, our prices: https://shop.example/prices"
"""
    )
    try:
        assert await conv.say("alice", "  PRICE ") == ["alice, our prices: https://shop.example/prices"]
        assert await conv.say("bob", "多少钱") == ["bob, our prices: https://shop.example/prices"]
        assert await conv.say("alice", "what is the price?") == []
        assert await conv.say("alice", "/price") == []
    finally:
        await conv.close()


async def test_regex_rule_with_member_cooldown_and_daily_cap() -> None:
    conv = await opened(
        """
[[rules]]
name = "shipping"
regex = "(?i)\\\\bship(ping)?\\\\b"
cooldown = "10m"
daily_cap = 2
reply = "Shipping takes 2-3 days."
"""
    )
    try:
        answer = ["Shipping takes 2-3 days."]
        assert await conv.say("alice", "when do you ship?") == answer
        assert await conv.say("alice", "SHIPPING??", at=START + timedelta(minutes=5)) == []  # cooldown
        assert await conv.say("bob", "shipping to Kazan?", at=START + timedelta(minutes=6)) == answer  # per member
        assert await conv.say("alice", "shipping", at=START + timedelta(minutes=11)) == answer
        assert await conv.say("alice", "shipping", at=START + timedelta(minutes=40)) == []  # 2 a day
        assert await conv.say("alice", "friendship") == []  # a word boundary, not a substring
        tomorrow = datetime(2026, 3, 3, 0, 5, tzinfo=SHANGHAI)  # the group's day, not UTC's
        assert await conv.say("alice", "shipping", at=tomorrow) == answer
    finally:
        await conv.close()


async def test_chat_cooldown_and_chat_daily_cap() -> None:
    conv = await opened(
        """
[[rules]]
name = "hello"
keywords = ["hello"]
chat_cooldown = "1m"
chat_daily_cap = 2
reply = "Hi!"
"""
    )
    try:
        assert await conv.say("alice", "hello") == ["Hi!"]
        assert await conv.say("bob", "hello", at=START + timedelta(seconds=30)) == []
        assert await conv.say("bob", "hello", at=START + timedelta(minutes=2)) == ["Hi!"]
        assert await conv.say("carol", "hello", at=START + timedelta(minutes=5)) == []
    finally:
        await conv.close()


async def test_time_window_in_the_group_timezone_wraps_midnight() -> None:
    conv = await opened(
        """
[[rules]]
name = "office"
keywords = ["help"]
hours = "09:00-18:00"
weekdays = ["mon", "tue", "wed", "thu", "fri"]
reply = "An agent will answer shortly."
[[rules]]
name = "night"
keywords = ["help"]
hours = "22:00-02:00"
reply = "We are asleep; we answer in the morning."
""",
        start=datetime(2026, 3, 2, 8, 59, tzinfo=SHANGHAI),
    )
    try:
        day, night = ["An agent will answer shortly."], ["We are asleep; we answer in the morning."]
        assert await conv.say("alice", "help") == []
        assert await conv.say("alice", "help", at=datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)) == day
        assert await conv.say("alice", "help", at=datetime(2026, 3, 2, 17, 59, tzinfo=SHANGHAI)) == day
        assert await conv.say("alice", "help", at=datetime(2026, 3, 2, 18, 0, tzinfo=SHANGHAI)) == []
        assert await conv.say("alice", "help", at=datetime(2026, 3, 2, 23, 30, tzinfo=SHANGHAI)) == night
        assert await conv.say("alice", "help", at=datetime(2026, 3, 3, 1, 59, tzinfo=SHANGHAI)) == night
        assert await conv.say("alice", "help", at=datetime(2026, 3, 7, 10, 0, tzinfo=SHANGHAI)) == []  # Saturday
    finally:
        await conv.close()


async def test_points_for_activity_are_capped_per_day_through_the_ledger() -> None:
    conv = await opened(
        """
[[rules]]
name = "activity"
any_message = true
min_length = 3
points = 2
daily_cap = 3
"""
    )
    try:
        for text in ("good morning", "ok", "how is everyone?", "/checkin", "nice weather", "anyone here?", "more"):
            assert await conv.say("alice", text) == []
        edited = replace(conv.event("say", "alice", text="an edit"), edited=True)
        await conv.deliver(edited)
        assert await conv.points("alice") == 6  # 3 messages counted; "ok" is too short, commands and edits never
        await conv.say("alice", "next day!", at=START + timedelta(days=1))
        assert await conv.ledger() == [("sandbox:alice", 2, "activity")] * 4
    finally:
        await conv.close()


class WithReactions(RecordingAdapter):
    features = RecordingAdapter.features | {Feature.REACTIONS}


async def test_admin_only_rule_reacts_tags_and_deletes_and_stop_ends_the_chain() -> None:
    conv = await opened(
        """
[[rules]]
name = "announce"
regex = "^!pin "
admin_only = true
react = "📌"
tag = "announcer"
delete = true
reply = "Pinned by {name}."
stop = true
[[rules]]
name = "shout"
regex = "!"
reply = "No shouting, please."
""",
        adapter=WithReactions,
    )
    try:
        actions = await conv.deliver(conv.event("say", "boss", text="!pin Sale at 8"))
        message_id = actions[0].reply_to if isinstance(actions[0], act.SendMessage) else None
        kinds = [(type(a).__name__, getattr(a, "content", None) or getattr(a, "emoji", None)) for a in actions]
        assert kinds == [("SendMessage", "Pinned by boss."), ("React", "📌"), ("DeleteMessage", None)]
        assert message_id is None  # the message is deleted: the reply does not point at it
        assert await conv.say("alice", "!pin me") == ["No shouting, please."]  # not an admin: the next rule
        t = MemberTag.__table__.c
        async with conv.db.connect() as db:
            tags = (await db.execute(select(t.member_key, t.tag, t.source))).all()
        assert [tuple(r) for r in tags] == [("sandbox:boss", "announcer", "announce")]
    finally:
        await conv.close()


async def test_a_pathological_regex_gives_up_and_the_bot_carries_on() -> None:
    conv = await opened(
        """
[[rules]]
name = "slow"
regex = "(a+)+$"
reply = "matched"
[[rules]]
name = "after"
keywords = ["ping"]
reply = "pong"
"""
    )
    try:
        assert await conv.say("mallory", "a" * 3000 + "!") == []
        assert await conv.say("alice", "ping") == ["pong"]
        assert await conv.say("alice", "aaa") == ["matched"]
    finally:
        await conv.close()


@pytest.mark.parametrize(
    ("rule", "where", "expected"),
    [
        ('name = "x"\nregex = "(unclosed"\nreply = "r"', "rules[0].regex", "bad regular expression"),
        ('name = "x"\nkeywords = ["a"]\nregex = "b"\nreply = "r"', "rules[0]", "give exactly one trigger"),
        ('name = "x"\nkeywords = ["a"]', "rules[0]", "give at least one action"),
        ('name = "x"\nkeywords = ["a"]\nreply = "hi {user.name}"', "rules[0].reply", "not a plain name"),
        ('name = "x"\nkeywords = ["a"]\nreply = "hi {points}"', "rules[0].reply", "unknown placeholder {points}"),
        ('name = "x"\nkeywords = ["a"]\nhours = "25:00-26:00"\nreply = "r"', "rules[0].hours", "impossible time"),
    ],
)
def test_bad_rules_are_config_errors_with_file_line_and_key(rule: str, where: str, expected: str) -> None:
    text = HEAD + "\n[[rules]]\n" + rule + "\n"
    key = where.rpartition(".")[2] if "." in where else "[[rules]]"
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith(key))
    with pytest.raises(ConfigError) as err:
        parse(text, "hearth.toml")
    assert f"hearth.toml:{line}: {where}: " in str(err.value) and expected in str(err.value), str(err.value)


def test_rule_names_are_unique() -> None:
    rule = '[[rules]]\nname = "same"\nkeywords = ["a"]\nreply = "r"\n'
    with pytest.raises(ConfigError, match="two rules are called 'same'"):
        parse(HEAD + rule + rule, "hearth.toml")
