"""Check-in throughput: the full engine against plain single-row aiosqlite inserts.

Run with ``python bench/checkin.py`` (``--help`` for options). Two measurements, alternated
``--repeat`` times (each in a fresh temporary SQLite file), medians reported:

* **engine** — sandbox frames are decoded (``adapters.sandbox.decode``) and submitted through
  ``bot.intake.Intake`` to ``bot.engine.Engine`` exactly as adapters do: one
  ``await intake.submit([event])`` per frame, many in flight at once (one stream per simulated
  connection, each member always on the same stream so its own events stay in order). The
  database is a SQLite file with the production pragmas, migrated by ``storage.db.upgrade``.
* **raw** — the same number of rows inserted one at a time with ``aiosqlite`` directly:
  ``INSERT`` + ``COMMIT`` per row into a table shaped like ``checkins``, in a SQLite file with
  the same pragmas (WAL, synchronous=NORMAL).

The workload: 2,000 members in 10 groups check in 10,000 times over 7 group-local days (each
member on a random ~70 % of the days, so streaks and streak rewards happen); on top of that
5 % of check-ins are followed by ``/me``, 2 % by a second ``/checkin`` the same day (answered
"already checked in"), and 3 % of all frames are redelivered (same platform id: a no-op).
Half the check-ins use ``/checkin``, half the alias ``签到``.

Each round also prints the process's CPU time per event or row, split into user and kernel
time: the raw inserts spend most of theirs in the kernel (a commit and two thread hand-offs
per row), whose cost on a shared virtual machine swings several-fold from minute to minute;
the user figure is the steadier one to compare versions with. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import random
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiosqlite
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from adapters.sandbox.decode import decode  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import parse  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.intake import Intake  # noqa: E402
from storage import db as storage_db  # noqa: E402
from storage.models import Checkin, LedgerEntry, OutboxMessage, ProcessedEvent  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, tzinfo=ZONE)
GROUPS = 10
CONFIG = """
[bot]
timezone = "Asia/Shanghai"
[platforms.sandbox]
[campaigns.daily]
type = "checkin"
aliases = ["签到", "打卡"]
points = 10
grace_days = 1
[[campaigns.daily.streak_rewards]]
days = 3
points = 30
[[campaigns.daily.streak_rewards]]
days = 7
points = 100
"""


@dataclass(frozen=True, slots=True)
class Frame:
    """One thing a member did, as the sandbox page would send it."""

    ident: str
    at: datetime
    chat: str
    user: str
    text: str


@dataclass(slots=True)
class Workload:
    streams: list[list[Frame]]
    checkins: int
    me: int
    again: int
    redelivered: int

    @property
    def frames(self) -> int:
        return sum(len(s) for s in self.streams)

    @property
    def unique(self) -> int:
        return self.frames - self.redelivered


def workload(checkins: int, members: int, days: int, streams: int, seed: int = 7) -> Workload:
    """A deterministic mix of check-ins, /me, same-day repeats and redeliveries."""
    rng = random.Random(seed)
    pairs = rng.sample([(m, d) for m in range(members) for d in range(days)], checkins)
    frames: list[Frame] = []
    me = again = 0
    for number, (m, d) in enumerate(pairs):
        user, chat = f"m{m:05d}", f"g{m % GROUPS}"
        at = START + timedelta(days=d, hours=8, seconds=rng.randrange(14 * 3600))
        text = "/checkin" if number % 2 else "签到"
        frames.append(Frame(f"{number}", at, chat, user, text))
        roll = rng.random()
        if roll < 0.05:
            frames.append(Frame(f"{number}.me", at + timedelta(seconds=30), chat, user, "/me"))
            me += 1
        elif roll < 0.07:
            frames.append(Frame(f"{number}.again", at + timedelta(hours=1), chat, user, "/checkin"))
            again += 1
    frames.sort(key=lambda f: f.at)
    per_stream: list[list[Frame]] = [[] for _ in range(streams)]
    redelivered = 0
    for frame in frames:
        stream = per_stream[int(frame.user[1:]) % streams]
        stream.append(frame)
        if rng.random() < 0.03:  # the platform delivers it again a moment later
            stream.append(frame)
            redelivered += 1
    return Workload(per_stream, checkins, me, again, redelivered)


@dataclass(frozen=True, slots=True)
class Timing:
    """Wall time and the process's CPU time (all threads), split into user and kernel."""

    seconds: float
    user: float
    system: float

    @classmethod
    def since(cls, start: tuple[float, resource.struct_rusage]) -> Timing:
        wall, usage = start
        now = resource.getrusage(resource.RUSAGE_SELF)
        return cls(time.perf_counter() - wall, now.ru_utime - usage.ru_utime, now.ru_stime - usage.ru_stime)

    @staticmethod
    def start() -> tuple[float, resource.struct_rusage]:
        return time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)

    def per(self, n: int) -> str:
        """CPU per item, e.g. ``120+40 µs``: user + kernel (syscalls, thread hand-offs)."""
        return f"{self.user / n * 1e6:3.0f}+{self.system / n * 1e6:3.0f} µs"


@dataclass(frozen=True, slots=True)
class EngineRun:
    timing: Timing
    events: int
    outbox: int
    ledger: int
    checkins: int
    processed: int

    @property
    def rate(self) -> float:
        return self.events / self.timing.seconds


async def run_engine(work: Workload, directory: Path, profile: cProfile.Profile | None = None) -> EngineRun:
    """Decode and submit every frame through the intake; time until the last commit."""
    url = f"sqlite+aiosqlite:///{directory / 'engine.db'}"
    config = parse(CONFIG, "bench.toml").model_copy()
    db = storage_db.create_engine(url)
    await storage_db.upgrade(db)
    engine = Engine(config, db, SystemClock())
    intake = Intake(engine)
    intake.start()
    titles = {f"g{g}": f"Group {g}" for g in range(GROUPS)}

    async def connection(frames: list[Frame]) -> None:
        for f in frames:
            event = decode({"op": "say", "chat": f.chat, "user": f.user, "text": f.text}, f.ident, f.at, titles)
            assert event is not None
            await intake.submit([event])

    if profile:
        profile.enable()
    started = Timing.start()
    await asyncio.gather(*(connection(s) for s in work.streams))
    timing = Timing.since(started)
    if profile:
        profile.disable()
    await intake.stop()
    async with db.connect() as conn:
        counts = [
            (await conn.execute(select(func.count()).select_from(m.__table__))).scalar_one()
            for m in (OutboxMessage, LedgerEntry, Checkin, ProcessedEvent)
        ]
    await db.dispose()
    return EngineRun(timing, work.frames, *counts)


RAW_SCHEMA = """
CREATE TABLE checkins (
    id INTEGER PRIMARY KEY AUTOINCREMENT, campaign VARCHAR(100) NOT NULL, chat_key VARCHAR(200) NOT NULL,
    member_key VARCHAR(200) NOT NULL, day DATE NOT NULL, at DATETIME NOT NULL, streak INTEGER NOT NULL,
    event_ref VARCHAR(300) NOT NULL, CONSTRAINT uq_checkin_day UNIQUE (campaign, chat_key, member_key, day))
"""
RAW_INSERT = (
    "INSERT INTO checkins (campaign, chat_key, member_key, day, at, streak, event_ref) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class RawRun:
    timing: Timing
    rows: int

    @property
    def rate(self) -> float:
        return self.rows / self.timing.seconds


async def run_raw(rows: int, directory: Path) -> RawRun:
    """Single-row INSERT + COMMIT through aiosqlite, timed."""
    async with aiosqlite.connect(directory / "raw.db") as conn:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000"):
            await conn.execute(f"PRAGMA {pragma}")
        await conn.execute(RAW_SCHEMA)
        await conn.commit()
        started = Timing.start()
        for i in range(rows):
            at = START + timedelta(seconds=i)
            day = (START + timedelta(days=i // 2000)).date().isoformat()
            params = ("daily", f"sandbox:g{i % GROUPS}", f"sandbox:m{i % 2000:05d}", day, at.isoformat(), 1, f"e{i}")
            await conn.execute(RAW_INSERT, params)
            await conn.commit()
        return RawRun(Timing.since(started), rows)


async def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkins", type=int, default=10_000)
    ap.add_argument("--members", type=int, default=2_000)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--streams", type=int, default=200, help="concurrent submitters (connections)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="cProfile one engine run and print the top entries")
    args = ap.parse_args(argv)
    work = workload(args.checkins, args.members, args.days, args.streams)
    print(
        f"workload: {work.frames} frames = {work.checkins} check-ins + {work.me} /me + {work.again} same-day repeats"
        f" + {work.redelivered} redeliveries; {args.members} members, {GROUPS} groups, {args.days} days,"
        f" {args.streams} concurrent streams"
    )
    if args.profile:
        profile = cProfile.Profile()
        with tempfile.TemporaryDirectory() as tmp:
            run = await run_engine(work, Path(tmp), profile)
        print(f"profiled engine run: {run.rate:,.0f} events/s (slowed by the profiler)")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
        return 0
    engine_runs: list[EngineRun] = []
    raw_runs: list[RawRun] = []
    for i in range(args.repeat):  # alternate, so a busy spell on the machine hits both
        with tempfile.TemporaryDirectory() as tmp:
            raw_runs.append(await run_raw(args.checkins, Path(tmp)))
        with tempfile.TemporaryDirectory() as tmp:
            engine_runs.append(await run_engine(work, Path(tmp)))
        raw_run, last = raw_runs[-1], engine_runs[-1]
        print(
            f"round {i + 1}: raw {raw_run.rate:6,.0f} rows/s (CPU/row {raw_run.timing.per(raw_run.rows)})"
            f"   engine {last.rate:6,.0f} events/s (CPU/event {last.timing.per(last.events)})"
            f"   ratio {last.rate / raw_run.rate:.2f}"
        )
    raw = statistics.median(r.rate for r in raw_runs)
    eng = statistics.median(r.rate for r in engine_runs)
    last = engine_runs[-1]
    print(f"raw aiosqlite insert+commit : {raw:10,.0f} rows/s   (median of {args.repeat})")
    print(f"engine (decode→outbox)      : {eng:10,.0f} events/s (median of {args.repeat})")
    print(f"ratio engine/raw            : {eng / raw:10.2f}   (target >= 0.50)")
    print(
        f"sanity: {last.processed} processed events (of {work.frames} frames, {work.unique} unique),"
        f" {last.checkins} check-ins, {last.ledger} ledger rows, {last.outbox} outbox rows"
    )
    ok = last.processed == work.unique and last.checkins == work.checkins and last.outbox == work.unique
    if not ok:
        print("sanity check FAILED: the engine did not do the expected work", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
