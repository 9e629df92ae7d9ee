"""The WebSocket gateway (the platform's older transport, still served): a fallback to webhooks.

Hello → Identify with only the intents the config needs (or Resume with the stored session and
seq) → dispatches, each committed before its seq counts as received; heartbeats carry the last
seq. ``op`` 7 reconnects and resumes; ``op`` 9 drops the session and identifies afresh, except
right after an Identify, where it means the platform refused it (usually an intent the bot was
not granted): that stops the adapter with a clear error instead of looping.

Exactly one connection per bot: a lease row in ``qq_gateway`` (renewed while connected) makes a
second Hearth process refuse to start rather than silently take the connection over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import uuid
from datetime import timedelta
from typing import Any

import aiohttp

from adapters.qq.api import QQApi
from adapters.qq.errors import Scrubber
from adapters.qq.receive import Receiver
from adapters.qq.settings import QQSettings
from adapters.qq.store import QQStore
from bot.clock import Clock

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=90)
RENEW_EVERY = 20.0
START_TIMEOUT = 30.0
REFUSED_CLOSE_CODES = {4013: "invalid intents", 4014: "intents not granted", 4914: "bot offline", 4915: "bot banned"}


class GatewayRefused(RuntimeError):
    """The platform will not let this bot connect as configured; retrying cannot help."""


class _Reconnect(Exception):
    pass


class Gateway:
    def __init__(
        self,
        api: QQApi,
        session: aiohttp.ClientSession,
        receiver: Receiver,
        store: QQStore,
        settings: QQSettings,
        clock: Clock,
        scrub: Scrubber,
    ) -> None:
        self.api = api
        self.http = session
        self.receiver = receiver
        self.store = store
        self.settings = settings
        self.clock = clock
        self.scrub = scrub
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.session_id: str | None = None
        self.seq: int | None = None
        self.connections = 0
        self._identifying = False
        self._up = asyncio.Event()
        self._error: BaseException | None = None
        self._task: asyncio.Task[None] | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    def __repr__(self) -> str:
        return f"Gateway(app_id={self.settings.app_id}, session={'yes' if self.session_id else 'no'})"

    async def start(self) -> None:
        got, holder, until = await self.store.acquire_lease(self.owner, self.clock.now(), LEASE)
        if not got:
            raise RuntimeError(
                f"another Hearth process ({holder}) holds the QQ gateway connection of bot "
                f"{self.settings.app_id} until {until:%Y-%m-%d %H:%M:%S} UTC; the platform allows one "
                "connection per bot: stop that process first (or wait for its lease to run out)"
            )
        self.session_id, self.seq = await self.store.session()
        self._task = asyncio.create_task(self._run(), name="qq-gateway")
        up = asyncio.create_task(self._up.wait())
        await asyncio.wait([up, self._task], timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        up.cancel()
        if self._error is not None:
            await self.stop()
            raise RuntimeError(str(self._error)) from None
        if not self._up.is_set():
            log.warning("QQ gateway not connected yet after %.0fs; still trying", START_TIMEOUT)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.store.release_lease(self.owner, self.clock.now())

    async def _run(self) -> None:
        delay = 1.0
        renew = asyncio.create_task(self._renew(), name="qq-gateway-lease")
        try:
            while True:
                try:
                    await self._connect()
                    delay = 1.0
                except _Reconnect:
                    delay = 0.0
                except GatewayRefused as err:
                    self._error = err
                    log.error("%s", err)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as err:
                    log.warning("QQ gateway connection lost (%s); reconnecting in %.0fs", self.scrub(err), delay)
                if delay:
                    await asyncio.sleep(delay)
                delay = min(60.0, max(1.0, delay * 2))
        finally:
            renew.cancel()

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            try:
                got, holder, _ = await self.store.acquire_lease(self.owner, self.clock.now(), LEASE)
            except Exception as err:
                log.warning("could not renew the QQ gateway lease: %s", self.scrub(err))
                continue
            if not got:
                log.error("the QQ gateway lease was taken by %s; closing this connection", holder)
                self._error = GatewayRefused("QQ gateway lease lost to another Hearth process")
                if self._task is not None:
                    self._task.cancel()
                return

    async def _connect(self) -> None:
        url = (await self.api.call("GET", "/gateway")).get("url")
        if not isinstance(url, str) or not url:
            raise ConnectionError("GET /gateway gave no url")
        async with self.http.ws_connect(url, autoping=True, max_msg_size=4 * 1024 * 1024) as ws:
            self._ws = ws
            self.connections += 1
            hello = await ws.receive_json(timeout=30)
            interval = float((hello.get("d") or {}).get("heartbeat_interval", 41250)) / 1000
            token = await self.api.token.get()
            if self.session_id is not None and self.seq is not None:
                self._identifying = False
                resume = {"token": f"QQBot {token}", "session_id": self.session_id, "seq": self.seq}
                await ws.send_json({"op": 6, "d": resume})
            else:
                self._identifying = True
                identify = {
                    "token": f"QQBot {token}",
                    "intents": self.settings.intents,
                    "shard": [0, 1],
                    "properties": {"$os": "linux", "$browser": "hearth", "$device": "hearth"},
                }
                await ws.send_json({"op": 2, "d": identify})
            beat = asyncio.create_task(self._beat(ws, interval), name="qq-heartbeat")
            try:
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.TEXT:
                        await self._on(ws, json.loads(msg.data))
                    elif msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSED):
                        break
            finally:
                beat.cancel()
                self._ws = None
            code = ws.close_code
            if code in REFUSED_CLOSE_CODES:
                raise GatewayRefused(self._refusal(f"closed with {code} ({REFUSED_CLOSE_CODES[code]})"))
            raise ConnectionError(f"closed by the gateway (code {code})")

    async def _on(self, ws: aiohttp.ClientWebSocketResponse, payload: Any) -> None:
        op = payload.get("op") if isinstance(payload, dict) else None
        if op == 0:
            kind, seq = payload.get("t"), payload.get("s")
            if kind == "READY":
                self.session_id = (payload.get("d") or {}).get("session_id")
                self._identifying = False
                self._mark_up("identified")
            elif kind == "RESUMED":
                self._mark_up("resumed")
            else:
                await self.receiver.dispatch(payload)  # raises if not committed: the seq stays behind
            if isinstance(seq, int):
                self.seq = seq
            await self.store.save_session(self.owner, self.session_id, self.seq)
        elif op == 1:
            await ws.send_json({"op": 1, "d": self.seq})
        elif op == 7:
            log.info("QQ gateway asked to reconnect")
            await ws.close()
            raise _Reconnect()
        elif op == 9:
            if self._identifying:
                raise GatewayRefused(self._refusal("refused Identify (op 9)"))
            log.info("QQ gateway session invalid; identifying afresh")
            self.session_id, self.seq = None, None
            await self.store.save_session(self.owner, None, None)
            await ws.close()
            raise _Reconnect()

    def _mark_up(self, how: str) -> None:
        log.info("QQ gateway %s for bot %s (session %s, seq %s)", how, self.settings.app_id, self.session_id, self.seq)
        self._up.set()

    def _refusal(self, what: str) -> str:
        return (
            f"the QQ gateway {what} for bot {self.settings.app_id} with intents {self.settings.intent_names()}: "
            "an intent the bot has not been granted makes Identify fail. Set member_events = false and/or "
            'keyboard = false in [platforms.qq] for what the platform has not approved, or use transport = "webhook"'
        )

    async def _beat(self, ws: aiohttp.ClientWebSocketResponse, interval: float) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while not ws.closed:
                await asyncio.sleep(interval)
                await ws.send_json({"op": 1, "d": self.seq})
