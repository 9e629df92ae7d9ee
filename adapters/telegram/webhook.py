"""The webhook endpoint: aiohttp, secret header checked in constant time, 200 only after commit.

* A missing or wrong ``X-Telegram-Bot-Api-Secret-Token`` gets 401 and nothing is read further.
* The update is committed before the answer; if the database fails the answer is 503 with
  ``Retry-After``, so Telegram delivers it again (and the engine's dedup absorbs repeats).
* A body that is not an update Hearth can parse gets 200 (logged): answering an error would
  make Telegram retry it for a day and hold back that chat's later updates.
"""

from __future__ import annotations

import json
import logging
import secrets

from aiogram import Bot
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from adapters.telegram.errors import Scrubber, description
from adapters.telegram.receive import Receiver

log = logging.getLogger(__name__)
HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024


class WebhookServer:
    def __init__(self, bot: Bot, receiver: Receiver, secret: str, host: str, port: int, path: str, scrub: Scrubber):
        self.bot = bot
        self.receiver = receiver
        self._secret = secret.encode("utf-8")
        self.host, self.port, self.path = host, port, path
        self.scrub = scrub
        self._runner: web.AppRunner | None = None
        self.address: tuple[str, int] | None = None
        self.accepted = 0
        self.refused = 0

    def __repr__(self) -> str:
        return f"WebhookServer({self.host}:{self.port}{self.path})"

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.path, self._update)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.address = (host, port)
        log.info("Telegram webhook endpoint listening on %s:%s%s", host, port, self.path)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _update(self, request: web.Request) -> web.Response:
        given = request.headers.get(HEADER, "").encode("utf-8")
        if not secrets.compare_digest(given, self._secret):
            self.refused += 1
            return web.Response(status=401, text="unauthorized")
        try:
            data = json.loads(await request.read())
            update = Update.model_validate(data, context={"bot": self.bot})
        except (ValueError, ValidationError, TypeError) as err:
            log.warning("webhook body is not an update Hearth can read; dropped: %s", str(err).splitlines()[0][:200])
            return web.Response(status=200)
        try:
            await self.receiver.handle([update])
        except Exception as err:
            log.error(
                "could not commit update %s; Telegram will retry: %s", update.update_id, description(err, self.scrub)
            )
            return web.Response(status=503, headers={"Retry-After": "5"}, text="try again")
        self.accepted += 1
        return web.Response(status=200)
