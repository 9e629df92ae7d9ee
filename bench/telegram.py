"""Telegram throughput: Hearth against a minimal aiogram bot, same fake Bot API server, same run.

Run with ``python bench/telegram.py`` (``--help`` for options). The fake Bot API server of the
tests (``tests/telegram/fake_api.py``, real HTTP) runs in its own process, so neither bot
shares its event loop with the server. Each round queues the same workload for each bot:
``--updates`` group ``/checkin`` messages (default 5,000) from ``--members`` members (1,000)
in one supergroup, and measures from start-up until the last reply was accepted by the server:

* **minimal** — an aiogram ``Dispatcher`` polling with one message handler that answers every
  update with ``sendMessage`` (aiogram's defaults: handlers run as concurrent tasks, the
  update is confirmed as soon as it is handed out, nothing is stored).
* **hearth** — the real ``App`` (engine, SQLite file in WAL mode, outbox, sender) with the
  Telegram adapter polling; every check-in is stored, deduplicated, streaks and points
  computed, each reply written to the outbox and sent (the sender's rate limits are switched
  off for the run; under backlog it merges replies to one chat into one message).

Rounds alternate (``--repeat``); medians are printed with the ratio hearth / minimal.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.telegram import updates as u  # noqa: E402

GROUP = u.supergroup(-1001000000001, "Bench group")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(port: int, tokens: list[str]) -> None:
    """The fake Bot API server, in a process of its own."""
    from tests.telegram.fake_api import FakeBotAPI

    async def main() -> None:
        async with FakeBotAPI(port=port) as fake:
            for token in tokens:
                fake.add_bot(token, "BenchBot")
            await asyncio.Event().wait()

    asyncio.run(main())


def workload(count: int, members: int) -> list[dict]:
    date = int(time.time())
    people = [u.user(10_000_000 + i, f"member{i}") for i in range(members)]
    return [u.message(GROUP, people[i % members], "/checkin", date=date) for i in range(count)]


async def push(url: str, token: str, updates: list[dict]) -> None:
    async with aiohttp.ClientSession() as session:
        for start in range(0, len(updates), 1000):
            async with session.post(f"{url}/_fake/{token}/push", json=updates[start : start + 1000]) as resp:
                resp.raise_for_status()


async def stats(url: str, token: str) -> dict:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/_fake/{token}/stats") as resp:
        return await resp.json()


async def run_minimal(url: str, token: str, count: int) -> float:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))
    dp = Dispatcher()
    done = asyncio.Event()
    answered = 0

    @dp.message()
    async def reply(message: Message) -> None:
        nonlocal answered
        await message.bot.send_message(message.chat.id, f"{message.from_user.first_name} checked in")
        answered += 1
        if answered >= count:
            done.set()

    started = time.perf_counter()
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    await done.wait()
    elapsed = time.perf_counter() - started
    await dp.stop_polling()
    await asyncio.gather(polling, return_exceptions=True)
    await bot.session.close()
    return elapsed


HEARTH_CONFIG = """
[bot]
database = "sqlite+aiosqlite:///{db}"
log_level = "WARNING"

[platforms.telegram]
token = "{token}"
api_url = "{url}"
poll_timeout = 1
messages_per_second = 1000000
group_messages_per_minute = 100000000
private_messages_per_second = 1000000

[campaigns.daily]
type = "checkin"
points = 10
"""


async def run_hearth(url: str, token: str, count: int, folder: Path) -> tuple[float, int]:
    from sqlalchemy import func, select

    from bot.app import App
    from bot.config import parse
    from storage import db as storage_db
    from storage.models import Checkin

    db = folder / "hearth.db"
    config = parse(HEARTH_CONFIG.format(db=db.as_posix(), token=token, url=url), "bench.toml")
    engine = storage_db.create_engine(config.bot.database)
    await storage_db.upgrade(engine)  # migrations are not part of the measurement
    await engine.dispose()
    app = App(config)
    started = time.perf_counter()
    await app.start()
    while app.sender.sent < count:  # noqa: ASYNC110 (the sender offers a counter, not an event)
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    async with app.db.connect() as conn:
        checkins = (await conn.execute(select(func.count()).select_from(Checkin.__table__))).scalar_one()
    await app.stop()
    return elapsed, int(checkins)


async def bench(args: argparse.Namespace) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    import adapters.telegram.adapter  # noqa: F401  (aiogram's import takes seconds: not measured)
    import bot.app  # noqa: F401

    port = free_port()
    rounds = args.repeat
    tokens = [f"{100 + i}:bench-minimal-{i}" for i in range(rounds)] + [
        f"{200 + i}:bench-hearth-{i}" for i in range(rounds)
    ]
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(port, tokens), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            await stats(url, tokens[0])
            break
        except aiohttp.ClientError:
            await asyncio.sleep(0.1)
    updates = workload(args.updates, args.members)
    minimal_rates, hearth_rates = [], []
    try:
        for i in range(rounds):
            mtoken, htoken = tokens[i], tokens[rounds + i]
            await push(url, mtoken, updates)
            seconds = await run_minimal(url, mtoken, args.updates)
            minimal_rates.append(args.updates / seconds)
            sent = (await stats(url, mtoken))["sent"]
            print(
                f"round {i + 1} minimal aiogram: {seconds:6.2f} s  {args.updates / seconds:8.0f} updates/s  "
                f"({sent} sendMessage calls)",
                flush=True,
            )
            await push(url, htoken, updates)
            with tempfile.TemporaryDirectory() as tmp:
                seconds, checkins = await run_hearth(url, htoken, args.updates, Path(tmp))
            hearth_rates.append(args.updates / seconds)
            sent = (await stats(url, htoken))["sent"]
            print(
                f"round {i + 1} hearth:          {seconds:6.2f} s  {args.updates / seconds:8.0f} updates/s  "
                f"({sent} sendMessage calls, {checkins} check-ins stored)",
                flush=True,
            )
    finally:
        server.terminate()
        server.join(5)
    m, h = statistics.median(minimal_rates), statistics.median(hearth_rates)
    print(f"\nmedian over {rounds} round(s), {args.updates} updates from {args.members} members:")
    print(f"  minimal aiogram bot: {m:8.0f} updates/s")
    print(f"  hearth:              {h:8.0f} updates/s")
    print(f"  ratio hearth/minimal: {h / m:.2f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--updates", type=int, default=5000)
    p.add_argument("--members", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=3, help="alternating rounds; medians are reported")
    asyncio.run(bench(p.parse_args()))


if __name__ == "__main__":
    main()
