"""OneBot throughput: group messages over a reverse WebSocket into Hearth vs a bare receiver.

Run with ``python bench/onebot.py`` (``--help`` for options). A fake NapCat account
(``tests/onebot/fake_onebot.py``) runs in its own process, dials the receiver's WebSocket
with the token and pushes ``--events`` group messages (default 5,000: ``签到`` from
``--members`` members, 1,000) as fast as the socket takes them, answering any API call.
Measured from the connection until the last message was handled:

* **baseline** — a bare aiohttp WebSocket server in this process that only parses each
  frame's JSON and counts the group messages.
* **hearth** — the real ``App`` (reverse-mode OneBot adapter, engine, SQLite file in WAL
  mode, outbox, sender): every message decoded, committed through the engine's intake
  (dedup, bookkeeping, check-in, points, an outbox reply), in arrival order. Replies are
  sent meanwhile (rate limits switched off for the run) but are not waited for.

Rounds alternate (``--repeat``); medians are printed with the ratio hearth / baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import WSMsgType, web

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TOKEN = "bench-onebot-token"
SELF_ID = 10001000
GROUP = 123456


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pusher(url: str, count: int, members: int) -> None:
    """The fake account, in a process of its own: connect, push everything, keep answering."""
    from tests.onebot.fake_onebot import FakeAccount, group_message

    async def main() -> None:
        frames = [
            group_message(SELF_ID, GROUP, 20_000_000 + i % members, "签到", name=f"member{i % members}")
            for i in range(count)
        ]
        account = FakeAccount(SELF_ID)
        for _ in range(600):
            try:
                await account.connect(url, TOKEN)
                break
            except Exception:
                await asyncio.sleep(0.05)
        ws = account.sockets[-1]
        for frame in frames:
            await ws.send_str(json.dumps(frame, ensure_ascii=False))
        await asyncio.Event().wait()

    asyncio.run(main())


def spawn(url: str, args: argparse.Namespace) -> multiprocessing.Process:
    proc = multiprocessing.get_context("spawn").Process(target=pusher, args=(url, args.events, args.members))
    proc.daemon = True
    proc.start()
    return proc


async def run_baseline(args: argparse.Namespace) -> float:
    done = asyncio.Event()
    seen, started = 0, 0.0

    async def handle(request: web.Request) -> web.WebSocketResponse:
        nonlocal seen, started
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        started = time.perf_counter()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                frame = json.loads(msg.data)
                if frame.get("post_type") == "message" and frame.get("message_type") == "group":
                    seen += 1
                    if seen >= args.events:
                        done.set()
        return ws

    app = web.Application()
    app.router.add_get("/onebot/v11/ws", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    proc = spawn(f"ws://127.0.0.1:{port}/onebot/v11/ws", args)
    try:
        await done.wait()
        return time.perf_counter() - started
    finally:
        proc.terminate()
        proc.join(5)
        await runner.cleanup()


HEARTH_CONFIG = """
[bot]
database = "sqlite+aiosqlite:///{db}"
log_level = "WARNING"

[platforms.onebot]
access_token = "{token}"
listen = "127.0.0.1:{port}"
messages_per_second = 1000000
group_messages_per_minute = 100000000
[[platforms.onebot.bots]]
self_id = "{self_id}"
platform = "qq"

[campaigns.daily]
type = "checkin"
aliases = ["签到"]
points = 10
"""


async def run_hearth(args: argparse.Namespace, folder: Path) -> tuple[float, int, int]:
    from sqlalchemy import func, select

    from bot.app import App
    from bot.config import parse
    from storage import db as storage_db
    from storage.models import Checkin

    port = free_port()
    text = HEARTH_CONFIG.format(db=(folder / "hearth.db").as_posix(), token=TOKEN, port=port, self_id=SELF_ID)
    config = parse(text, "bench.toml")
    engine = storage_db.create_engine(config.bot.database)
    await storage_db.upgrade(engine)  # migrations are not part of the measurement
    await engine.dispose()
    app = App(config)
    await app.start()
    hub = app.adapters["onebot"].hub  # type: ignore[attr-defined]
    proc = spawn(f"ws://127.0.0.1:{port}/onebot/v11/ws", args)
    try:
        while str(SELF_ID) not in hub.health:  # noqa: ASYNC110 (no event announces the connection)
            await asyncio.sleep(0.001)
        started = time.perf_counter()
        health = hub.health[str(SELF_ID)]
        while health.events < args.events or hub.backlog:  # noqa: ASYNC110
            await asyncio.sleep(0.002)
        elapsed = time.perf_counter() - started
        async with app.db.connect() as conn:
            checkins = (await conn.execute(select(func.count()).select_from(Checkin.__table__))).scalar_one()
        sent = app.sender.sent
    finally:
        proc.terminate()
        proc.join(5)
        await app.stop(send_timeout=0)
    return elapsed, int(checkins), sent


async def bench(args: argparse.Namespace) -> None:
    import logging

    logging.basicConfig(level=logging.ERROR)
    import adapters.onebot.adapter  # noqa: F401  (imports are not measured)
    import bot.app  # noqa: F401

    base_rates, hearth_rates = [], []
    for i in range(args.repeat):
        seconds = await run_baseline(args)
        base_rates.append(args.events / seconds)
        rate = args.events / seconds
        print(f"round {i + 1} bare aiohttp receiver: {seconds:6.2f} s  {rate:9.0f} events/s", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            seconds, checkins, sent = await run_hearth(args, Path(tmp))
        hearth_rates.append(args.events / seconds)
        print(
            f"round {i + 1} hearth:                {seconds:6.2f} s  {args.events / seconds:9.0f} events/s  "
            f"({checkins} check-ins stored, {sent} replies sent by then)",
            flush=True,
        )
    b, h = statistics.median(base_rates), statistics.median(hearth_rates)
    print(f"\nmedian over {args.repeat} round(s), {args.events} group messages from {args.members} members:")
    print(f"  bare aiohttp WebSocket receiver (JSON only): {b:9.0f} events/s")
    print(f"  hearth (full pipeline, committed):           {h:9.0f} events/s")
    print(f"  ratio hearth/baseline: {h / b:.3f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=5000)
    p.add_argument("--members", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=3, help="alternating rounds; medians are reported")
    asyncio.run(bench(p.parse_args()))


if __name__ == "__main__":
    main()
