"""The callback endpoint WeCom calls (aiohttp): URL verification and encrypted event POSTs.

* ``GET ?msg_signature&timestamp&nonce&echostr``: the signature is checked, ``echostr``
  decrypted and answered in plain text (WeCom's URL verification).
* ``POST`` (XML with ``Encrypt``): the ciphertext is cut out of the body without parsing it,
  the signature and then the corp id are checked, and only then is the message parsed.
  Anything refused gets 403 and one log line naming the refusal, nothing of the payload.
* A ``change_external_chat`` event is stored (:meth:`WeComStore.add_callback`) before the
  answer ``success``; storing is one small insert, well inside WeCom's 5 seconds, and the
  roster work happens afterwards. A retry of a stored callback changes nothing. If the
  database fails, the answer is 503 and WeCom sends it again.
* A text a corp member sent to the app is stored the same way (``on_text``, when the app chat
  is on: ``agent_id`` set), and answered afterwards (:mod:`adapters.wecom.staff`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web

from adapters.wecom.crypto import Crypto, Refused
from adapters.wecom.decode import AppText, app_text, chat_change, encrypted_of
from adapters.wecom.store import WeComStore
from bot.clock import Clock

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024


class CallbackServer:
    def __init__(
        self,
        crypto: Crypto,
        store: WeComStore,
        clock: Clock,
        host: str,
        port: int,
        path: str,
        wake: Callable[[], None],
        on_text: Callable[[AppText, datetime], Awaitable[bool]] | None = None,
    ) -> None:
        self.crypto = crypto
        self.store = store
        self.clock = clock
        self.host, self.port, self.path = host, port, path
        self.wake = wake
        self.on_text = on_text
        self._runner: web.AppRunner | None = None
        self.address: tuple[str, int] | None = None
        self.accepted = 0
        self.refused = 0

    def __repr__(self) -> str:
        return f"CallbackServer({self.host}:{self.port}{self.path})"

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_get(self.path, self._verify)
        app.router.add_post(self.path, self._event)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        host, port = self._runner.addresses[0][:2]
        self.address = (host, port)
        log.info("WeCom callbacks on %s:%s%s", host, port, self.path)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _refuse(self, request: web.Request, why: str) -> web.Response:
        self.refused += 1
        log.warning("refused a WeCom callback from %s: %s", request.remote, why)
        return web.Response(status=403, text="refused")

    def _open(self, request: web.Request, encrypted: str) -> bytes:
        q = request.query
        return self.crypto.open(q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", ""), encrypted)

    async def _verify(self, request: web.Request) -> web.Response:
        try:
            echo = self._open(request, request.query.get("echostr", ""))
        except Refused as err:
            return self._refuse(request, str(err))
        return web.Response(body=echo, content_type="text/plain")

    async def _event(self, request: web.Request) -> web.Response:
        encrypted = encrypted_of(await request.read())
        if encrypted is None:
            return self._refuse(request, "no Encrypt element")
        try:
            message = self._open(request, encrypted)
        except Refused as err:
            return self._refuse(request, str(err))
        change = chat_change(message)
        text = app_text(message) if change is None and self.on_text is not None else None
        if change is not None or text is not None:
            try:
                if change is not None:
                    await self.store.add_callback(change, hashlib.sha256(message).hexdigest(), self.clock.now())
                elif self.on_text is not None and text is not None:
                    await self.on_text(text, self.clock.now())
            except Exception as err:
                log.error("could not store a WeCom callback; WeCom will retry: %s", type(err).__name__)
                return web.Response(status=503, text="try again")
            self.wake()
        self.accepted += 1
        return web.Response(text="success")
