"""WeCom callback throughput: Hearth's endpoint against a bare verify-and-decrypt handler.

Run with ``python bench/wecom.py`` (``--help`` for options). Every request is a
``change_external_chat`` ``add_member`` callback, encrypted and signed as WeCom does
(``tests/wecom/sender.py``, sealed before the clock starts), POSTed with ``--concurrency``
requests in flight. Measured: callbacks per second until the last ``success`` came back.

* **bare** — an aiohttp handler that checks the signature, decrypts (the same
  :class:`adapters.wecom.crypto.Crypto`) and answers ``success``: the floor of any receiver.
* **hearth** — :class:`adapters.wecom.server.CallbackServer`: the same, plus the XML parsed and
  the callback stored in SQLite (WAL) with its digest before ``success`` is answered.

Rounds alternate (``--repeat``); medians are printed with the ratio hearth / bare.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from adapters.wecom.crypto import Crypto  # noqa: E402
from adapters.wecom.decode import encrypted_of  # noqa: E402
from adapters.wecom.server import CallbackServer  # noqa: E402
from adapters.wecom.store import WeComStore  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from storage import db as storage_db  # noqa: E402
from tests.wecom.fake_wecom import change_xml  # noqa: E402
from tests.wecom.sender import AES_KEY, TOKEN, CallbackSender  # noqa: E402

CORP = "ww0123456789abcdef"


def workload(count: int) -> list[tuple[dict[str, str], bytes]]:
    sender = CallbackSender("", CORP)
    return [
        sender.seal(change_xml(CORP, f"wrG{i % 50}", "update", "add_member", [f"wm{i:06d}"], 1_780_000_000 + i))
        for i in range(count)
    ]


async def post_all(url: str, requests: list[tuple[dict[str, str], bytes]], concurrency: int) -> float:
    queue = list(reversed(requests))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while queue:
                params, body = queue.pop()
                async with session.post(url, params=params, data=body) as resp:
                    assert resp.status == 200 and await resp.text() == "success"

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start


async def bare(requests: list, concurrency: int) -> float:
    crypto = Crypto(TOKEN, AES_KEY, CORP)

    async def handle(request: web.Request) -> web.Response:
        q = request.query
        encrypted = encrypted_of(await request.read()) or ""
        crypto.open(q["msg_signature"], q["timestamp"], q["nonce"], encrypted)
        return web.Response(text="success")

    app = web.Application()
    app.router.add_post("/cb", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        return len(requests) / await post_all(f"http://{host}:{port}/cb", requests, concurrency)
    finally:
        await runner.cleanup()


async def hearth(requests: list, concurrency: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        db = storage_db.create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
        await storage_db.upgrade(db)
        server = CallbackServer(
            Crypto(TOKEN, AES_KEY, CORP), WeComStore(db), SystemClock(), "127.0.0.1", 0, "/cb", lambda: None
        )
        await server.start()
        host, port = server.address  # type: ignore[misc]
        try:
            rate = len(requests) / await post_all(f"http://{host}:{port}/cb", requests, concurrency)
            assert server.accepted == len(requests)
            assert len(await WeComStore(db).pending_callbacks(limit=len(requests) + 1)) == len(requests)
            return rate
        finally:
            await server.stop()
            await db.dispose()


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=2000, help="callbacks per round")
    p.add_argument("--concurrency", type=int, default=20)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    requests = workload(args.count)
    rates: dict[str, list[float]] = {"bare": [], "hearth": []}
    for _ in range(args.repeat):
        rates["bare"].append(await bare(requests, args.concurrency))
        rates["hearth"].append(await hearth(requests, args.concurrency))
    b, h = statistics.median(rates["bare"]), statistics.median(rates["hearth"])
    print(f"bare   (verify + decrypt):                 {b:8.0f} callbacks/s")
    print(f"hearth (verify + decrypt + parse + store): {h:8.0f} callbacks/s")
    print(f"ratio hearth / bare: {h / b:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
