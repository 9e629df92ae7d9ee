"""Config value types: cron weekdays keep their crontab meaning; durations read and print alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.config import ConfigError, parse
from bot.config_types import format_duration, parse_duration

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def weekdays_of(cron: str) -> list[str]:
    """The weekdays (Mon..Sun) on which a configured announcement fires in one week."""
    config = parse(f'[platforms.sandbox]\n[campaigns.a]\ntype = "announcement"\nschedule = "{cron}"\ntext = "x"\n')
    trigger = CronTrigger.from_crontab(config.campaigns["a"].schedule, timezone="UTC")
    fires, prev, now = [], None, MONDAY - timedelta(seconds=1)
    while True:
        fire = trigger.get_next_fire_time(prev, now)
        if fire is None or fire >= MONDAY + timedelta(days=7):
            return fires
        fires.append(fire.strftime("%a"))
        prev = now = fire


@pytest.mark.parametrize(
    ("cron", "days"),
    [
        ("0 9 * * 0", ["Sun"]),
        ("0 9 * * 7", ["Sun"]),
        ("0 9 * * 1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0 9 * * mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0 9 * * 5-7", ["Fri", "Sat", "Sun"]),
        ("0 9 * * fri-sun", ["Fri", "Sat", "Sun"]),
        ("0 9 * * */2", ["Tue", "Thu", "Sat", "Sun"]),
        ("0 9 * * 1,3", ["Mon", "Wed"]),
        ("0 9 * * *", ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
    ],
)
def test_cron_weekdays_mean_what_they_mean_in_crontab(cron: str, days: list[str]) -> None:
    assert weekdays_of(cron) == days


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 9 * * 8", "'8' is not a weekday"),
        ("0 9 * * fri-tue", "runs backwards"),
        ("0 0 31 2 *", "never fires"),
        ("0 9 * * mon/0", "bad step"),
    ],
)
def test_bad_cron_weekdays_are_refused(cron: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(f'[platforms.sandbox]\n[campaigns.a]\ntype = "announcement"\nschedule = "{cron}"\ntext = "x"\n', "h.toml")
    (problem,) = err.value.problems
    assert str(problem).startswith("h.toml:4: campaigns.a.schedule: ")
    assert message in problem.message


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h30m", 5400), ("1h 30m", 5400), ("7d", 604800), ("2w", 1209600), (45, 45)],
)
def test_durations_read_and_print_alike(text: object, seconds: float) -> None:
    value = parse_duration(text)
    assert value.total_seconds() == seconds
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize("text", ["5 hrs", "", "h", "1h-5m", "-5m", True, [1]])
def test_bad_durations_are_refused(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
