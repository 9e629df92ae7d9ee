"""QQ webhook throughput: Hearth's full pipeline against a bare signature-checking handler.

Run with ``python bench/qq.py`` (``--help`` for options). Both servers are called exactly as the
platform calls them: every event is a ``GROUP_AT_MESSAGE_CREATE`` ``@bot 签到`` from one of
``--members`` members in one of ``--groups`` groups, signed with Ed25519 over timestamp + body
(signed before the clock starts, so signing costs neither side), POSTed with ``--concurrency``
requests in flight. Measured: events per second until the last ``op`` 12 answer came back.

* **bare** — an aiohttp handler that verifies the signature (the same :class:`Signer`), parses
  the JSON and answers ``op`` 12: the floor any webhook server pays.
* **hearth** — the real ``App``: signature check, decode, reply window and ``union_openid``
  stored, event committed by the engine (dedup, check-in, streak, points, outbox row) before
  the answer, SQLite file in WAL mode; its sender meanwhile sends the passive replies to the
  in-process fake QQ platform (``tests/qq/fake_qq.py``).

Rounds alternate (``--repeat``); medians are printed with the ratio hearth / bare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from adapters.qq.sign import Signer  # noqa: E402
from tests.qq.fake_qq import FakeQQ  # noqa: E402
from tests.qq.payloads import group_message  # noqa: E402

APP_ID = "102000000"
SECRET = "BenchSecretForTheQQWebhook"


def workload(count: int, members: int, groups: int) -> list[tuple[bytes, dict[str, str]]]:
    """Signed requests: ``(body, headers)``."""
    signer = Signer(SECRET)
    now = datetime.now(UTC)
    out = []
    for i in range(count):
        payload = group_message(
            "签到", now, group=f"GROUP{i % groups:04d}", member=f"MEMBER{i % members:06d}", msg_id=f"bench-{i}"
        )
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Signature-Timestamp": ts,
            "X-Signature-Ed25519": signer.sign(ts.encode() + body),
        }
        out.append((body, headers))
    return out


async def fire(url: str, requests: list[tuple[bytes, dict[str, str]]], concurrency: int) -> float:
    """POST every request; seconds until the last answer (every answer must be op 12)."""
    queue: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue()
    for r in requests:
        queue.put_nowait(r)
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn) as session:

        async def worker() -> None:
            while not queue.empty():
                body, headers = queue.get_nowait()
                async with session.post(url, data=body, headers=headers) as resp:
                    answer = await resp.json()
                    if resp.status != 200 or answer.get("op") != 12:
                        raise RuntimeError(f"unexpected answer {resp.status}: {answer}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start


async def run_bare(requests: list[tuple[bytes, dict[str, str]]], concurrency: int) -> float:
    signer = Signer(SECRET)

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        ok = signer.verify(
            request.headers.get("X-Signature-Timestamp", ""), body, request.headers.get("X-Signature-Ed25519", "")
        )
        if not ok:
            return web.Response(status=401)
        json.loads(body)
        return web.json_response({"op": 12, "d": 0})

    app = web.Application()
    app.router.add_post("/qq/callback", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        return await fire(f"http://{host}:{port}/qq/callback", requests, concurrency)
    finally:
        await runner.cleanup()


async def run_hearth(requests: list[tuple[bytes, dict[str, str]]], concurrency: int) -> tuple[float, int]:
    from bot.app import App
    from bot.config import parse

    async with FakeQQ(APP_ID, SECRET) as fake:
        with tempfile.TemporaryDirectory() as folder:
            config = parse(
                f"""
[bot]
database = "sqlite+aiosqlite:///{Path(folder, "bench.db").as_posix()}"
log_level = "WARNING"
[platforms.qq]
app_id = "{APP_ID}"
secret = "{SECRET}"
host = "127.0.0.1"
port = 0
api_base = "{fake.url}"
token_url = "{fake.url}/app/getAppAccessToken"
[campaigns.daily]
type = "checkin"
aliases = ["签到"]
""",
                "bench.toml",
            )
            app = App(config)
            await app.start()
            try:
                host, port = app.adapters["qq"].webhook.address
                seconds = await fire(f"http://{host}:{port}/qq/callback", requests, concurrency)
                return seconds, len(fake.sent)
            finally:
                await app.stop()


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=2000)
    p.add_argument("--members", type=int, default=500)
    p.add_argument("--groups", type=int, default=20)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    bare: list[float] = []
    hearth: list[float] = []
    replies = 0
    for _ in range(args.repeat):
        requests = workload(args.events, args.members, args.groups)
        bare.append(args.events / await run_bare(requests, args.concurrency))
        seconds, replies = await run_hearth(requests, args.concurrency)
        hearth.append(args.events / seconds)
    b, h = statistics.median(bare), statistics.median(hearth)
    print(f"signed webhook events: {args.events} x {args.repeat} rounds, concurrency {args.concurrency}")
    print(f"bare aiohttp + Ed25519 verify : {b:8.0f} events/s  (rounds: {', '.join(f'{x:.0f}' for x in bare)})")
    print(f"hearth full pipeline          : {h:8.0f} events/s  (rounds: {', '.join(f'{x:.0f}' for x in hearth)})")
    print(f"ratio hearth / bare           : {h / b:8.3f}")
    print(f"(replies already accepted by the fake platform when the last event was committed: {replies})")


if __name__ == "__main__":
    asyncio.run(main())
