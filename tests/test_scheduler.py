"""Scheduled announcements: cron in each group's timezone, DST, downtime and restarts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot import actions as act
from bot.events import Event
from bot.scheduler import Scheduler, next_fires
from storage.models import OutboxMessage, ProcessedEvent, ScheduleFire
from tests.harness import Conversation

UTC = ZoneInfo("UTC")
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
RIGA = ZoneInfo("Europe/Riga")

TWO_GROUPS = """
[bot]
timezone = "UTC"
[platforms.sandbox]
[[groups]]
id = "sandbox:sh"
title = "Shanghai"
timezone = "Asia/Shanghai"
[[groups]]
id = "sandbox:ny"
title = "New York"
timezone = "America/New_York"
[campaigns.morning]
type = "announcement"
schedule = "0 9 * * mon-fri"
text = "Good morning, {group}! Today is {date}."
groups = ["sandbox:sh", "sandbox:ny"]
"""


def riga(cron: str) -> str:
    return f"""
[bot]
timezone = "UTC"
[platforms.sandbox]
[[groups]]
id = "sandbox:lv"
title = "Riga"
timezone = "Europe/Riga"
[campaigns.morning]
type = "announcement"
schedule = "{cron}"
text = "Labrīt, {{group}}!"
groups = ["sandbox:lv"]
"""


def daily(extra: str = "") -> str:
    return f"""
[bot]
timezone = "Asia/Shanghai"
{extra}
[platforms.sandbox]
[campaigns.morning]
type = "announcement"
schedule = "0 9 * * *"
text = "Morning, {{group}}! {{date}}"
groups = ["sandbox:g1"]
"""


def posts(conv: Conversation, chat: str) -> list[tuple[datetime, str]]:
    """(UTC time, text) of every message the bot posted to ``chat``."""
    return [(t, a.content) for t, a in conv.adapter.performed if isinstance(a, act.SendMessage) and a.chat == chat]


async def fires(conv: Conversation) -> list[tuple[datetime, str]]:
    c = ScheduleFire.__table__.c
    async with conv.db.connect() as conn:
        rows = await conn.execute(select(c.fire_time, c.status).order_by(c.fire_time))
        return [(t, s) for t, s in rows]


async def outbox_texts(conv: Conversation) -> list[str]:
    c = OutboxMessage.__table__.c
    async with conv.db.connect() as conn:
        return [p["content"] for (p,) in await conn.execute(select(c.payload).order_by(c.id))]


@pytest.fixture
async def opened():
    convs: list[Conversation] = []

    async def open_(toml: str, start: datetime, **kwargs: object) -> Conversation:
        conv = await Conversation.open(toml, start, **kwargs)
        convs.append(conv)
        return conv

    yield open_
    for conv in convs:
        await conv.close()


# --- cron in the group's timezone ------------------------------------------------------------


async def test_weekday_announcement_fires_at_nine_local_in_each_group(opened) -> None:
    # two weeks from Saturday 28 Feb; New York moves to summer time on Sunday 8 March
    conv = await opened(TWO_GROUPS, datetime(2026, 2, 28, tzinfo=UTC))
    await conv.advance(timedelta(days=14))
    weekdays = [date(2026, 3, d) for d in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13)]
    for chat, zone, title in (("sandbox:sh", SHANGHAI, "Shanghai"), ("sandbox:ny", NEW_YORK, "New York")):
        sent = posts(conv, chat)
        local = [t.astimezone(zone) for t, _ in sent]
        assert [t.date() for t in local] == weekdays
        assert all((t.hour, t.minute) == (9, 0) for t in local)
        assert [text for _, text in sent] == [f"Good morning, {title}! Today is {d.isoformat()}." for d in weekdays]
    ny_utc_hours = [t.hour for t, _ in posts(conv, "sandbox:ny")]
    assert ny_utc_hours == [14] * 5 + [13] * 5  # EST, then EDT
    assert {t.hour for t, _ in posts(conv, "sandbox:sh")} == {1}  # 09:00 CST is 01:00 UTC


async def test_same_schedule_fires_at_different_instants_in_different_zones(opened) -> None:
    conv = await opened(TWO_GROUPS, datetime(2026, 3, 2, tzinfo=UTC))
    await conv.advance(timedelta(hours=24))
    [(sh_time, _)] = posts(conv, "sandbox:sh")
    [(ny_time, _)] = posts(conv, "sandbox:ny")
    assert ny_time - sh_time == timedelta(hours=13)


# --- DST ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "utc_hours"),
    [
        (datetime(2026, 3, 27, tzinfo=RIGA), [7, 7, 6, 6]),  # spring forward on Sunday 29 March
        (datetime(2026, 10, 23, tzinfo=RIGA), [6, 6, 7, 7]),  # fall back on Sunday 25 October
    ],
)
async def test_daily_nine_oclock_in_riga_stays_at_nine_across_dst(opened, start: datetime, utc_hours) -> None:
    conv = await opened(riga("0 9 * * *"), start)
    await conv.advance(timedelta(days=4))
    sent = posts(conv, "sandbox:lv")
    assert [t.hour for t, _ in sent] == utc_hours
    assert [t.astimezone(RIGA).strftime("%H:%M") for t, _ in sent] == ["09:00"] * 4
    assert len({t.astimezone(RIGA).date() for t, _ in sent}) == 4  # once per day


async def test_fire_in_the_hour_that_does_not_exist_runs_once(opened) -> None:
    # 03:30 does not exist in Riga on 29 March 2026 (03:00 jumps to 04:00)
    conv = await opened(riga("30 3 * * *"), datetime(2026, 3, 28, tzinfo=RIGA))
    await conv.advance(timedelta(days=3))
    days = [t.astimezone(RIGA).date() for t, _ in posts(conv, "sandbox:lv")]
    assert days == [date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)]


async def test_fire_in_the_hour_that_happens_twice_runs_once(opened) -> None:
    # 03:30 happens twice in Riga on 25 October 2026 (04:00 falls back to 03:00)
    conv = await opened(riga("30 3 * * *"), datetime(2026, 10, 24, tzinfo=RIGA))
    await conv.advance(timedelta(days=3))
    local = [t.astimezone(RIGA) for t, _ in posts(conv, "sandbox:lv")]
    assert [t.date() for t in local] == [date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)]
    assert all(t.strftime("%H:%M") == "03:30" for t in local)


def test_check_lists_the_fall_back_fire_once() -> None:
    shown = next_fires("30 3 * * *", "Europe/Riga", datetime(2026, 10, 24, 12, tzinfo=RIGA))
    assert [f.date() for f in shown] == [date(2026, 10, 25), date(2026, 10, 26), date(2026, 10, 27)]


# --- downtime ------------------------------------------------------------------------------------


async def test_after_three_days_down_only_the_latest_fire_within_the_grace_runs(opened) -> None:
    conv = await opened(daily(), datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI))
    await conv.scheduler.run_due()  # the scheduler is up at 08:00 Monday, then the machine sleeps
    conv.clock.set(datetime(2026, 3, 5, 9, 20, tzinfo=SHANGHAI))
    await conv.scheduler.run_due()
    await conv.scheduler.run_due()  # a second look changes nothing
    assert [text for _, text in await _flush_posts(conv)] == ["Morning, Group one! 2026-03-05"]
    thursday, wednesday = (datetime(2026, 3, d, 9, tzinfo=SHANGHAI) for d in (5, 4))
    assert await fires(conv) == [(wednesday, "skipped"), (thursday, "fired")]
    posted = await conv.advance(timedelta(days=1))
    assert posted == ["Morning, Group one! 2026-03-06"]


async def test_after_downtime_beyond_the_grace_nothing_runs_and_the_skip_is_recorded(opened, caplog) -> None:
    conv = await opened(daily(), datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI))
    await conv.scheduler.run_due()
    conv.clock.set(datetime(2026, 3, 5, 10, 30, tzinfo=SHANGHAI))
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        await conv.scheduler.run_due()
    assert await _flush_posts(conv) == []
    assert await fires(conv) == [(datetime(2026, 3, 5, 9, tzinfo=SHANGHAI), "skipped")]
    assert "skipped" in caplog.text and "morning" in caplog.text
    assert await conv.advance(timedelta(days=1)) == ["Morning, Group one! 2026-03-06"]


async def test_a_longer_grace_from_the_config_lets_a_late_fire_run(opened) -> None:
    conv = await opened(daily('[scheduler]\ngrace = "3h"'), datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI))
    await conv.scheduler.run_due()
    conv.clock.set(datetime(2026, 3, 2, 11, 30, tzinfo=SHANGHAI))
    await conv.scheduler.run_due()
    assert [text for _, text in await _flush_posts(conv)] == ["Morning, Group one! 2026-03-02"]


async def _flush_posts(conv: Conversation) -> list[tuple[datetime, str]]:
    before = len(conv.adapter.performed)
    await conv.flush()
    return [(t, a.content) for t, a in conv.adapter.performed[before:] if isinstance(a, act.SendMessage)]


# --- restarts and ids --------------------------------------------------------------------------


async def test_restart_never_repeats_a_fire(opened, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    first = await opened(daily(), datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI), database=url)
    assert await first.advance(timedelta(hours=1, minutes=30)) == ["Morning, Group one! 2026-03-02"]
    await first.close()
    # a new process (new engine and scheduler) on the same file, 10 minutes after the fire
    second = await opened(daily(), datetime(2026, 3, 2, 9, 40, tzinfo=SHANGHAI), database=url)
    assert await second.advance(timedelta(minutes=1)) == []
    assert await second.advance(timedelta(days=1)) == ["Morning, Group one! 2026-03-03"]
    await second.close()
    # down from Tuesday to Friday 09:10: only Friday's fire runs
    third = await opened(daily(), datetime(2026, 3, 6, 9, 10, tzinfo=SHANGHAI), database=url)
    assert await third.advance(timedelta(minutes=1)) == ["Morning, Group one! 2026-03-06"]
    assert await outbox_texts(third) == [f"Morning, Group one! 2026-03-0{d}" for d in (2, 3, 6)]


async def test_two_schedulers_on_one_database_fire_once(opened, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    start = datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)
    one, two = await opened(daily(), start, database=url), await opened(daily(), start, database=url)
    await one.scheduler.run_due()
    await two.scheduler.run_due()
    for conv in (one, two):
        conv.clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))
    await one.scheduler.run_due()
    await two.scheduler.run_due()  # the second process sees the same fire: the engine's dedup absorbs it
    assert await outbox_texts(one) == ["Morning, Group one! 2026-03-02"]
    assert await fires(one) == [(datetime(2026, 3, 2, 9, tzinfo=SHANGHAI), "fired")]


async def test_fire_event_id_names_campaign_chat_and_fire_time(opened) -> None:
    conv = await opened(daily(), datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI))
    await conv.advance(timedelta(hours=2))
    c = ProcessedEvent.__table__.c
    async with conv.db.connect() as conn:
        rows = (await conn.execute(select(c.event_id, c.kind, c.self_id))).all()
    assert [tuple(r) for r in rows] == [
        ("schedule:morning:sandbox:g1:2026-03-02T01:00:00+00:00", "timer.fired", "scheduler")
    ]


async def test_a_round_that_could_not_submit_is_retried_not_lost(opened) -> None:
    conv = await opened(daily(), datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI))
    failures = [OSError("database is locked")]

    async def submit(events: Sequence[Event]) -> None:
        if failures:
            raise failures.pop()
        await conv.engine.handle(events)

    scheduler = Scheduler(conv.config, conv.db, conv.clock, conv.engine.campaigns, submit, {"sandbox:g1": "Group one"})
    await scheduler.run_due()
    conv.clock.set(datetime(2026, 3, 2, 9, 0, 30, tzinfo=SHANGHAI))
    with pytest.raises(OSError):
        await scheduler.run_due()
    await scheduler.run_due()  # the next round (the scheduler loop logs and goes on)
    assert [text for _, text in await _flush_posts(conv)] == ["Morning, Group one! 2026-03-02"]
    assert await fires(conv) == [(datetime(2026, 3, 2, 9, tzinfo=SHANGHAI), "fired")]
