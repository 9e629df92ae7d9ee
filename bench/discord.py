"""Discord throughput and the 3-second deadline under a burst of slash commands.

Run with ``python bench/discord.py`` (``--help`` for options). The fake Discord of the tests
(``tests/discord/fake_discord.py``: REST over HTTP, the gateway over a WebSocket) runs in a
process of its own; Hearth (the real ``App``: discord.py client, engine, SQLite file in WAL
mode, outbox, sender with its channel limits lifted) runs in this one. Each round the fake
dispatches ``--commands`` ``/checkin`` slash commands (default 2,000) from ``--members``
members (500) in one channel, as fast as the socket takes them, and measures in its own clock:

* **acknowledged**: how long after its dispatch each command got its deferred reply
  (Discord's deadline is 3 s) — median and worst;
* **answered/s**: commands whose deferred reply was filled in with the check-in answer,
  from the first dispatch to the last answer.
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
# run as a script, this file's folder comes first on the path and its name would hide discord.py
sys.path = [x for x in sys.path if Path(x or ".").resolve() != Path(__file__).resolve().parent]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.discord import payloads as p  # noqa: E402

CONFIG = """
[bot]
database = "sqlite+aiosqlite:///{db}"
log_level = "WARNING"

[platforms.discord]
token = "{token}"
messages_per_second = 1000000
channel_messages_per_second = 1000000
channel_burst = 1000000
[[platforms.discord.guilds]]
id = "{guild}"
channels = ["{channel}"]

[campaigns.daily]
type = "checkin"
points = 10
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(port: int) -> None:
    """The fake Discord, in a process of its own."""
    from tests.discord.fake_discord import FakeDiscord

    async def main() -> None:
        async with FakeDiscord(port=port):
            await asyncio.Event().wait()

    asyncio.run(main())


async def control(url: str, method: str, path: str, body: object = None) -> dict:
    async with aiohttp.ClientSession() as session, session.request(method, f"{url}/_fake/{path}", json=body) as r:
        r.raise_for_status()
        return await r.json()


async def one_round(url: str, commands: int, members: int, folder: Path) -> dict:
    import discord.http

    from bot.app import App
    from bot.config import parse
    from storage import db as storage_db

    discord.http.Route.BASE = f"{url}/api/v10"
    config = parse(
        CONFIG.format(db=(folder / "h.db").as_posix(), token=p.TOKEN, guild=p.GUILD, channel=p.GENERAL), "b.toml"
    )
    engine = storage_db.create_engine(config.bot.database)
    await storage_db.upgrade(engine)  # migrations are not part of the measurement
    await engine.dispose()
    app = App(config)
    await app.start()
    while (await control(url, "GET", "stats"))["sessions"] < 1:  # noqa: ASYNC110 (another process)
        await asyncio.sleep(0.05)
    people = [p.user(str(1_300_000_000_000_000_000 + i), f"member{i}") for i in range(members)]
    burst = [p.slash("checkin", people[i % members]) for i in range(commands)]
    before = (await control(url, "GET", "stats"))["answered"]
    for start in range(0, len(burst), 200):  # the fake takes bodies up to 1 MB
        await control(url, "POST", "interact", burst[start : start + 200])
    deadline = time.monotonic() + 600
    while (stats := await control(url, "GET", "stats"))["answered"] - before < commands:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {stats['answered'] - before} of {commands} answered")
        await asyncio.sleep(0.1)
    await app.stop()
    return stats


async def bench(args: argparse.Namespace) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    import adapters.discord.adapter  # noqa: F401  (imports are not measured)
    import bot.app  # noqa: F401

    rates, acks, worst = [], [], []
    for i in range(args.repeat):
        port = free_port()
        server = multiprocessing.get_context("spawn").Process(target=serve, args=(port,), daemon=True)
        server.start()
        url = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                await control(url, "GET", "stats")
                break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                stats = await one_round(url, args.commands, args.members, Path(tmp))
        finally:
            server.terminate()
            server.join(5)
        rate = args.commands / stats["seconds"]
        rates.append(rate)
        acks.append(stats["ack_p50"])
        worst.append(stats["ack_max"])
        print(
            f"round {i + 1}: {args.commands} slash commands answered in {stats['seconds']:.2f} s = {rate:.0f}/s; "
            f"acknowledged after {stats['ack_p50'] * 1000:.0f} ms median, {stats['ack_max'] * 1000:.0f} ms worst",
            flush=True,
        )
    print(
        f"median of {args.repeat}: {statistics.median(rates):.0f} answered/s; acknowledgement "
        f"{statistics.median(acks) * 1000:.0f} ms median, {max(worst) * 1000:.0f} ms worst (Discord allows 3000 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
