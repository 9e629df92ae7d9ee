"""The callback endpoint: aiohttp, Ed25519 signature checked before anything is parsed.

* No or a bad ``X-Signature-Ed25519`` over ``X-Signature-Timestamp`` + raw body → 401; the
  refusal is logged with the peer address only (never the body or the secret).
* ``op`` 13 (address validation) → ``{"plain_token", "signature"}``.
* ``op`` 0 → committed (adapter state and the event) before the ``op`` 12 answer; if the
  database fails the answer is 503, so the platform delivers it again (dedup absorbs repeats).
"""

from __future__ import annotations

import json
import logging

from aiohttp import web

from adapters.qq.errors import Scrubber
from adapters.qq.receive import Receiver
from adapters.qq.sign import Signer

log = logging.getLogger(__name__)
SIGNATURE = "X-Signature-Ed25519"
TIMESTAMP = "X-Signature-Timestamp"
MAX_BODY = 1024 * 1024
ACK = {"op": 12, "d": 0}


class WebhookServer:
    def __init__(self, signer: Signer, receiver: Receiver, host: str, port: int, path: str, scrub: Scrubber) -> None:
        self.signer = signer
        self.receiver = receiver
        self.host, self.port, self.path = host, port, path
        self.scrub = scrub
        self._runner: web.AppRunner | None = None
        self.address: tuple[str, int] | None = None
        self.refused = 0

    def __repr__(self) -> str:
        return f"WebhookServer({self.host}:{self.port}{self.path})"

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.path, self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        host, port = self._runner.addresses[0][:2]
        self.address = (host, port)
        log.info("QQ callback endpoint listening on %s:%s%s", host, port, self.path)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        signature = request.headers.get(SIGNATURE, "")
        timestamp = request.headers.get(TIMESTAMP, "")
        if not signature or not timestamp or not self.signer.verify(timestamp, body, signature):
            self.refused += 1
            what = "without a signature" if not signature or not timestamp else "with a bad signature"
            log.warning("refused a QQ callback %s from %s", what, request.remote)
            return web.Response(status=401, text="bad signature")
        try:
            payload = json.loads(body)
            op = payload.get("op") if isinstance(payload, dict) else None
        except ValueError:
            log.warning("signed QQ callback is not JSON; ignored")
            return web.json_response(ACK)
        if op == 13:
            d = payload.get("d") or {}
            plain, ts = d.get("plain_token"), d.get("event_ts")
            if not isinstance(plain, str) or not isinstance(ts, str | int):
                return web.Response(status=400, text="bad validation request")
            log.info("answering the QQ callback address validation")
            return web.json_response(self.signer.validation_answer(plain, str(ts)))
        if op != 0:
            return web.json_response(ACK)
        try:
            await self.receiver.dispatch(payload)
        except Exception as err:
            log.error("could not commit a QQ dispatch; the platform will retry: %s", self.scrub(err)[:300])
            return web.Response(status=503, headers={"Retry-After": "5"}, text="try again")
        return web.json_response(ACK)
