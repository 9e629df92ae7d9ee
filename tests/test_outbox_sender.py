"""The sender drains the outbox to a platform: order, retries, permanent failures, limits.

``Platform`` below is a stand-in for a chat platform: a real class implementing the
``Adapter`` protocol that records what it was asked to do and fails when told to.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from adapters.base import Feature, PermanentError, SendResult, TemporaryError
from bot import actions as act
from bot import outbox
from bot.clock import ManualClock
from bot.config import parse
from bot.ratelimit import RateLimits
from bot.sender import Sender
from bot.stats import summary
from storage import db as storage_db
from storage.models import OutboxMessage

UTC = ZoneInfo("UTC")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UNLIMITED = RateLimits(per_second=1e9, burst=10**9, per_chat_per_second=1e9, per_chat_burst=10**9)


class Platform:
    """A platform stand-in: performs actions by recording them; fails as scripted per text."""

    platform = "fake"
    features = frozenset({Feature.DELETE, Feature.BUTTONS})

    def __init__(self, clock: ManualClock, limits: RateLimits = UNLIMITED) -> None:
        self.clock = clock
        self.limits = limits
        self.attempts: list[tuple[datetime, act.Action]] = []
        self.performed: list[tuple[datetime, act.Action]] = []
        self.failures: dict[str, list[BaseException]] = defaultdict(list)
        self.hold: asyncio.Event | None = None  # when set, perform waits for it
        self.entered = asyncio.Event()

    def fail(self, text: str, *errors: BaseException) -> None:
        """The next attempts to send ``text`` raise ``errors``, one per attempt."""
        self.failures[text].extend(errors)

    async def start(self, sink: object) -> None: ...

    async def stop(self) -> None: ...

    async def perform(self, action: act.Action, idempotency_key: str) -> SendResult:
        self.attempts.append((self.clock.now(), action))
        self.entered.set()
        if self.hold is not None:
            await self.hold.wait()
        text = getattr(action, "content", "")
        if self.failures.get(text):
            raise self.failures[text].pop(0)
        self.performed.append((self.clock.now(), action))
        return SendResult(message_id=f"m{len(self.performed)}")

    def texts(self, chat: str | None = None) -> list[str]:
        return [
            a.content for _, a in self.performed if isinstance(a, act.SendMessage) and (chat is None or a.chat == chat)
        ]


@pytest.fixture
async def db(tmp_path: Path):
    engine = storage_db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    await storage_db.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


async def enqueue(db, clock: ManualClock, *actions: act.Action) -> None:
    """Commit actions to the outbox the way the engine does."""
    async with db.begin() as conn:
        rows = [outbox.outbox_row(a, None, clock.now(), platform="fake") for a in actions]
        await conn.execute(outbox.outbox_t.insert(), rows)


async def rows(db) -> list[tuple[str, str, int, str | None]]:
    c = OutboxMessage.__table__.c
    async with db.connect() as conn:
        q = select(c.action, c.status, c.attempts, c.error).order_by(c.id)
        return [tuple(r) for r in await conn.execute(q)]  # type: ignore[misc]


async def settle(sender: Sender, clock: ManualClock, db, limit: timedelta = timedelta(days=1)) -> None:
    """Drain, moving simulated time forward to whenever the sender says, until nothing is pending."""
    end = clock.now() + limit
    while clock.now() < end:
        delay = await sender.drain()
        if delay == 0.0:
            continue
        if all(status != "pending" for _, status, _, _ in await rows(db)):
            return
        clock.advance(timedelta(microseconds=math.ceil(delay * 1e6)))
    raise AssertionError("the outbox did not settle")


def say(text: str, chat: str = "c1", **kw: object) -> act.SendMessage:
    return act.SendMessage(f"fake:{chat}", text, **kw)  # type: ignore[arg-type]


# --- sent means accepted ---------------------------------------------------------------------


async def test_a_message_is_marked_sent_only_after_the_platform_returned(db, clock) -> None:
    platform = Platform(clock)
    platform.hold = asyncio.Event()
    sender = Sender(db, {"fake": platform}, clock)
    await enqueue(db, clock, say("hello"))
    draining = asyncio.create_task(sender.drain())
    await asyncio.wait_for(platform.entered.wait(), timeout=30)
    assert await rows(db) == [("send_message", "pending", 0, None)]  # the platform has not answered yet
    platform.hold.set()
    await asyncio.wait_for(draining, timeout=30)
    assert await rows(db) == [("send_message", "sent", 1, None)]
    assert platform.texts() == ["hello"]


# --- retries -----------------------------------------------------------------------------------


async def test_retry_after_is_honoured_then_the_message_goes_once(db, clock) -> None:
    platform = Platform(clock)
    platform.fail("hello", TemporaryError("429 Too Many Requests", retry_after=30))
    sender = Sender(db, {"fake": platform}, clock)
    await enqueue(db, clock, say("hello"))
    await sender.drain()
    for _ in range(29):
        clock.advance(timedelta(seconds=1))
        await sender.drain()
    assert [t for t, _ in platform.attempts] == [START]  # nothing before 30 s
    clock.advance(timedelta(seconds=1))
    await settle(sender, clock, db)
    assert [t for t, _ in platform.attempts] == [START, START + timedelta(seconds=30)]
    assert platform.texts() == ["hello"]
    assert await rows(db) == [("send_message", "sent", 2, "429 Too Many Requests")]


async def test_permanent_error_is_recorded_never_retried_and_shown_by_stats(db, clock, tmp_path: Path) -> None:
    platform = Platform(clock)
    platform.fail("hello", PermanentError("Forbidden: bot was kicked from the group chat"))
    sender = Sender(db, {"fake": platform}, clock)
    await enqueue(db, clock, say("hello"), say("to another chat", chat="c2"))
    await settle(sender, clock, db)
    clock.advance(timedelta(days=2))
    await sender.drain()
    assert len(platform.attempts) == 2 and platform.texts() == ["to another chat"]
    assert (await rows(db))[0] == ("send_message", "failed", 1, "Forbidden: bot was kicked from the group chat")
    toml = f'[bot]\ndatabase = "sqlite+aiosqlite:///{tmp_path / "outbox.db"}"\n[platforms.sandbox]\n'
    config = parse(toml, "test.toml")
    report = await summary(config)
    assert "failed 1" in report and "sent 1" in report
    assert "send_message to fake:c1: Forbidden: bot was kicked from the group chat" in report


async def test_unexpected_error_backs_off_and_fails_after_max_attempts(db, clock) -> None:
    platform = Platform(clock)
    platform.fail("hello", *(RuntimeError("adapter bug with secret details") for _ in range(20)))
    sender = Sender(db, {"fake": platform}, clock)
    await enqueue(db, clock, say("hello"))
    await settle(sender, clock, db)
    times = [t for t, _ in platform.attempts]
    assert len(times) == outbox.MAX_ATTEMPTS
    gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
    assert gaps == [min(300.0, 2.0**i) for i in range(outbox.MAX_ATTEMPTS - 1)]  # 1 s, 2 s, 4 s, ... 5 min
    [(_, status, attempts, error)] = await rows(db)
    assert (status, attempts, error) == ("failed", outbox.MAX_ATTEMPTS, "RuntimeError")
    clock.advance(timedelta(days=1))
    await sender.drain()
    assert len(platform.attempts) == outbox.MAX_ATTEMPTS


async def test_a_platform_that_stays_offline_loses_nothing(db, clock) -> None:
    """Tries that never left (no connection) do not count: a three-hour outage only delays."""
    platform = Platform(clock)
    offline = TemporaryError("no bridge is connected for that chat", not_sent=True)
    platform.fail("hello", *(offline for _ in range(3 * 360)))  # every 10 s for three hours
    sender = Sender(db, {"fake": platform}, clock)
    await enqueue(db, clock, say("hello"))
    await settle(sender, clock, db)
    assert platform.texts() == ["hello"]
    assert len(platform.attempts) == 3 * 360 + 1
    assert platform.performed[0][0] - START >= timedelta(hours=3)
    [(_, status, attempts, _)] = await rows(db)
    assert (status, attempts) == ("sent", 1)


# --- order ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [RuntimeError("connection reset"), TemporaryError("502 Bad Gateway"), TemporaryError("429", retry_after=5)],
)
async def test_later_messages_never_overtake_one_waiting_for_a_retry(db, clock, error: Exception) -> None:
    platform = Platform(clock)
    platform.fail("one", error)
    sender = Sender(db, {"fake": platform}, clock, coalesce_after=100)
    await enqueue(db, clock, say("one"), say("two"), say("elsewhere", chat="c2"))
    await sender.drain()
    await enqueue(db, clock, say("three"))
    await settle(sender, clock, db)
    assert platform.texts("fake:c1") == ["one", "two", "three"]
    assert platform.performed[0][1].content == "elsewhere"  # other chats are not held back
    assert platform.performed[0][0] == START


async def test_a_merged_send_that_failed_is_retried_whole_and_in_order(db, clock) -> None:
    platform = Platform(clock)
    platform.fail("a\n\nb\n\nc\n\nd", TemporaryError("502"))
    sender = Sender(db, {"fake": platform}, clock, coalesce_after=4)
    await enqueue(db, clock, *(say(t) for t in "abcd"))
    await sender.drain()
    await enqueue(db, clock, say("e"))
    await settle(sender, clock, db)
    # the retry is the same message (the 502 may have come after the platform took it), then the newcomer
    assert platform.texts() == ["a\n\nb\n\nc\n\nd", "e"]


async def test_a_scheduled_delete_does_not_hold_the_chat_back(db, clock) -> None:
    platform = Platform(clock)
    sender = Sender(db, {"fake": platform}, clock)
    await enqueue(db, clock, say("vanishing", delete_after=3600))
    await sender.drain()
    clock.advance(timedelta(seconds=1))
    await enqueue(db, clock, say("next"))
    await sender.drain()
    assert platform.texts() == ["vanishing", "next"]
    assert platform.performed[1][0] == START + timedelta(seconds=1)


# --- rate limits and backlog ---------------------------------------------------------------------


def within_bucket(times: list[datetime], rate: float, burst: int) -> bool:
    """Every window [t_i, t_j] holds at most ``burst + rate * (t_j - t_i)`` sends."""
    stamps = sorted(t.timestamp() for t in times)
    return all(
        j - i + 1 <= burst + rate * (stamps[j] - stamps[i]) + 1e-6
        for i in range(len(stamps))
        for j in range(i, len(stamps))
    )


async def test_per_chat_limit_is_respected_and_used(db, clock) -> None:
    limits = RateLimits(per_second=100, burst=100, per_chat_per_second=1.0, per_chat_burst=3)
    platform = Platform(clock, limits)
    sender = Sender(db, {"fake": platform}, clock, coalesce_after=10**6)
    await enqueue(db, clock, *(say(f"m{i}") for i in range(12)))
    await settle(sender, clock, db)
    times = [t for t, _ in platform.performed]
    assert platform.texts() == [f"m{i}" for i in range(12)]
    assert within_bucket(times, rate=1.0, burst=3)
    assert not within_bucket(times, rate=1.0, burst=2)  # the burst is used, not wasted
    assert times[-1] - times[0] <= timedelta(seconds=9.01)  # 3 at once, then one a second


async def test_platform_wide_limit_is_respected_across_chats(db, clock) -> None:
    limits = RateLimits(per_second=5.0, burst=5, per_chat_per_second=1.0, per_chat_burst=3)
    platform = Platform(clock, limits)
    sender = Sender(db, {"fake": platform}, clock)
    await enqueue(db, clock, *(say("hi", chat=f"c{i}") for i in range(40)))
    await settle(sender, clock, db)
    times = [t for t, _ in platform.performed]
    assert len(times) == 40
    assert within_bucket(times, rate=5.0, burst=5)
    assert times[-1] - times[0] <= timedelta(seconds=7.01)


async def test_backlog_to_one_chat_is_merged_into_one_message(db, clock) -> None:
    platform = Platform(clock)
    sender = Sender(db, {"fake": platform}, clock, coalesce_after=4)
    await enqueue(db, clock, say("one"), say("two"), say("three"), say("four"), say("five", chat="c2"))
    await settle(sender, clock, db)
    assert platform.texts("fake:c1") == ["one\n\ntwo\n\nthree\n\nfour"]
    assert platform.texts("fake:c2") == ["five"]
    assert [status for _, status, _, _ in await rows(db)] == ["sent"] * 5


async def test_a_long_backlog_in_one_chat_does_not_hold_up_another_chat(db, clock) -> None:
    """1,000 replies queued for a busy chat, then one for a quiet chat: the quiet chat's
    message goes out in the first round, not after the busy chat's backlog."""
    platform = Platform(clock)
    sender = Sender(db, {"fake": platform}, clock)
    await enqueue(db, clock, *(say(f"busy {i}") for i in range(1000)))
    await enqueue(db, clock, say("quiet", chat="c2"))
    await sender.drain()
    assert platform.texts("fake:c2") == ["quiet"]


async def test_a_short_queue_is_not_merged_and_buttons_stop_a_merge(db, clock) -> None:
    platform = Platform(clock)
    sender = Sender(db, {"fake": platform}, clock, coalesce_after=4)
    await enqueue(db, clock, say("a"), say("b"), say("c"))
    await settle(sender, clock, db)
    assert platform.texts() == ["a", "b", "c"]
    vote = say("vote", buttons=((act.Button("yes", data="y"),),))
    await enqueue(db, clock, say("d"), say("e"), say("f"), say("g"), vote, say("h"))
    await settle(sender, clock, db)
    assert platform.texts()[3:] == ["d\n\ne\n\nf\n\ng", "vote", "h"]


async def test_delete_after_removes_the_message_after_the_delay(db, clock) -> None:
    platform = Platform(clock)
    sender = Sender(db, {"fake": platform}, clock)
    await enqueue(db, clock, say("this message self-destructs", delete_after=60))
    await sender.drain()
    clock.advance(timedelta(seconds=59))
    await sender.drain()
    assert [a.kind for _, a in platform.performed] == ["send_message"]
    await settle(sender, clock, db)
    _, (deleted_at, delete) = platform.performed
    assert delete == act.DeleteMessage("fake:c1", "m1")
    assert deleted_at == START + timedelta(seconds=60)
