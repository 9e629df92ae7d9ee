"""The check-in day ends at midnight in the group's timezone, DST nights included."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from storage.models import Checkin
from tests.harness import Conversation

UTC = ZoneInfo("UTC")
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
RIGA = ZoneInfo("Europe/Riga")
ZONES = {"sh": SHANGHAI, "ny": NEW_YORK, "lv": RIGA}

CONFIG = """
[bot]
timezone = "UTC"
[platforms.sandbox]
[[groups]]
id = "sandbox:sh"
timezone = "Asia/Shanghai"
[[groups]]
id = "sandbox:ny"
timezone = "America/New_York"
[[groups]]
id = "sandbox:lv"
timezone = "Europe/Riga"
[campaigns.daily]
type = "checkin"
points = 10
"""


@pytest.fixture
async def chat():
    conv = await Conversation.open(CONFIG, datetime(2026, 1, 1, tzinfo=UTC))
    yield conv
    await conv.close()


async def days(conv: Conversation, chat: str, member: str = "alice") -> list[tuple[date, int]]:
    c = Checkin.__table__.c
    q = select(c.day, c.streak).where(c.chat_key == f"sandbox:{chat}", c.member_key == f"sandbox:{member}")
    async with conv.db.connect() as conn:
        return [(d, s) for d, s in await conn.execute(q.order_by(c.day))]


async def checkin(conv: Conversation, chat: str, at: datetime) -> str:
    [reply] = await conv.say("alice", "/checkin", chat=chat, at=at)
    return reply


async def test_same_instant_is_a_different_day_in_shanghai_and_new_york(chat: Conversation) -> None:
    # 02:00 UTC on 2 March: 10:00 on the 2nd in Shanghai, 21:00 on the 1st in New York
    first = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert "Streak: 1" in await checkin(chat, "sh", first)
    assert "Streak: 1" in await checkin(chat, "ny", first)
    # four hours later it is still the 2nd in Shanghai but already the 2nd in New York too
    later = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    refused = await checkin(chat, "sh", later)
    assert "already checked in" in refused and "10 h 0 min" in refused
    assert "Streak: 2" in await checkin(chat, "ny", later)
    assert await days(chat, "sh") == [(date(2026, 3, 2), 1)]
    assert await days(chat, "ny") == [(date(2026, 3, 1), 1), (date(2026, 3, 2), 2)]


@pytest.mark.parametrize("zone", sorted(ZONES))
async def test_a_minute_before_and_after_midnight_are_two_days(chat: Conversation, zone: str) -> None:
    tz = ZONES[zone]
    assert "Streak: 1" in await checkin(chat, zone, datetime(2026, 6, 10, 23, 59, tzinfo=tz))
    assert "Streak: 2" in await checkin(chat, zone, datetime(2026, 6, 11, 0, 1, tzinfo=tz))
    assert await chat.points("alice") == 20
    assert await days(chat, zone) == [(date(2026, 6, 10), 1), (date(2026, 6, 11), 2)]


@pytest.mark.parametrize("zone", sorted(ZONES))
async def test_two_minutes_before_midnight_then_one_is_the_same_day(chat: Conversation, zone: str) -> None:
    tz = ZONES[zone]
    await checkin(chat, zone, datetime(2026, 6, 10, 23, 58, tzinfo=tz))
    refused = await checkin(chat, zone, datetime(2026, 6, 10, 23, 59, tzinfo=tz))
    assert "already checked in" in refused and "opens in 1 min." in refused
    assert "Streak: 2" in await checkin(chat, zone, datetime(2026, 6, 11, 0, 0, tzinfo=tz))  # midnight itself
    assert await chat.points("alice") == 20


async def test_spring_forward_night_in_riga(chat: Conversation) -> None:
    # 29 March 2026: 03:00 EET jumps to 04:00 EEST, a 23-hour day
    assert "Streak: 1" in await checkin(chat, "lv", datetime(2026, 3, 28, 23, 30, tzinfo=RIGA))
    assert "Streak: 2" in await checkin(chat, "lv", datetime(2026, 3, 29, 0, 30, tzinfo=RIGA))
    # at 02:30 (still winter time) midnight is 20 h 30 min away, not the 21 h 30 min of the wall clock
    refused = await checkin(chat, "lv", datetime(2026, 3, 29, 2, 30, tzinfo=RIGA))
    assert "20 h 30 min" in refused
    refused = await checkin(chat, "lv", datetime(2026, 3, 29, 4, 30, tzinfo=RIGA))  # summer time now
    assert "19 h 30 min" in refused
    refused = await checkin(chat, "lv", datetime(2026, 3, 29, 23, 59, tzinfo=RIGA))
    assert "opens in 1 min." in refused
    assert "Streak: 3" in await checkin(chat, "lv", datetime(2026, 3, 30, 0, 1, tzinfo=RIGA))
    assert await days(chat, "lv") == [(date(2026, 3, d), s) for d, s in ((28, 1), (29, 2), (30, 3))]


async def test_fall_back_night_in_riga(chat: Conversation) -> None:
    # 25 October 2026: 04:00 EEST falls back to 03:00 EET, a 25-hour day
    assert "Streak: 1" in await checkin(chat, "lv", datetime(2026, 10, 24, 23, 59, tzinfo=RIGA))
    assert "Streak: 2" in await checkin(chat, "lv", datetime(2026, 10, 25, 0, 30, tzinfo=RIGA))
    refused = await checkin(chat, "lv", datetime(2026, 10, 25, 0, 31, tzinfo=RIGA))
    assert "24 h 29 min" in refused
    # the second 03:05 of the night (fold=1) is later than the first 03:10, and still the same day
    await checkin(chat, "lv", datetime(2026, 10, 25, 3, 10, tzinfo=RIGA))
    refused = await checkin(chat, "lv", datetime(2026, 10, 25, 3, 5, fold=1, tzinfo=RIGA))
    assert "already checked in" in refused and "20 h 55 min" in refused
    assert "Streak: 3" in await checkin(chat, "lv", datetime(2026, 10, 26, 0, 1, tzinfo=RIGA))
    [me] = await chat.say("alice", "/me", chat="lv")
    assert "30 points" in me and "streak 3" in me and "best 3" in me


async def test_me_counts_the_streak_in_the_group_day(chat: Conversation) -> None:
    # New York: checked in on the 1st and 2nd (local); /me at 23:30 on the 3rd (already the 4th
    # in UTC) still shows the streak, at 00:30 on the 4th (local) it is broken
    await checkin(chat, "ny", datetime(2026, 3, 1, 12, tzinfo=NEW_YORK))
    await checkin(chat, "ny", datetime(2026, 3, 2, 12, tzinfo=NEW_YORK))
    [me] = await chat.say("alice", "/me", chat="ny", at=datetime(2026, 3, 3, 23, 30, tzinfo=NEW_YORK))
    assert "streak 2" in me
    [me] = await chat.say("alice", "/me", chat="ny", at=datetime(2026, 3, 4, 0, 30, tzinfo=NEW_YORK))
    assert "streak 0" in me and "best 2" in me
