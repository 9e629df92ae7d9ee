"""Forward WebSocket: Hearth connects to each bridge's ``url`` (aiohttp client), and
reconnects with back-off for as long as it runs.

The token goes in ``Authorization: Bearer``. A bridge that refuses it answers HTTP 401/403
(Lagrange) or completes the upgrade and sends a ``retcode`` 1401/1403 frame (NapCat,
LLOneBot); either way the error is logged without the token and the client keeps trying,
slowly. Forward sockets do not name their account in the handshake: unless the ``bots``
entry gives ``self_id``, it is learned from the first frame that carries one (the
``lifecycle`` event every implementation sends on connect).
"""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp

from adapters.onebot import auth
from adapters.onebot.connection import Connection
from adapters.onebot.hub import Hub, self_id_of
from adapters.onebot.settings import OneBotBot, OneBotSettings

log = logging.getLogger(__name__)
HEARTBEAT = 30.0
FIRST_DELAY = 0.5
STABLE = 30.0  # seconds a connection must last for the back-off to start over
REFUSED_CODES = (1401, 1403)


class ForwardClient:
    """One bridge: connect, read until the socket goes, wait, connect again."""

    def __init__(self, settings: OneBotSettings, bot: OneBotBot, hub: Hub) -> None:
        assert bot.url is not None
        self.settings = settings
        self.bot = bot
        self.url = bot.url
        self.hub = hub
        self.connects = 0
        self.refusals = 0
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run(), name=f"onebot-forward-{self.bot.self_id or self.url}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        delay = FIRST_DELAY
        cap = max(FIRST_DELAY, self.settings.reconnect_max.total_seconds())
        loop = asyncio.get_running_loop()
        while True:
            began = loop.time()
            try:
                await self._connect_once()
            except asyncio.CancelledError:
                raise
            except aiohttp.WSServerHandshakeError as err:
                if err.status in (401, 403):
                    self.refusals += 1
                    log.error("the bridge at %s refused the access token (HTTP %s)", self.url, err.status)
                else:
                    log.warning("cannot connect to the bridge at %s: HTTP %s", self.url, err.status)
            except (aiohttp.ClientError, OSError, TimeoutError) as err:
                log.warning("cannot reach the bridge at %s: %s", self.url, type(err).__name__)
            except Exception:
                log.exception("the connection to the bridge at %s failed", self.url)
            if loop.time() - began > STABLE:
                delay = FIRST_DELAY
            log.info("reconnecting to %s in %.1fs", self.url, delay)
            await asyncio.sleep(delay)
            delay = min(cap, delay * 2)

    async def _connect_once(self) -> None:
        assert self._session is not None
        token = self.settings.access_token.get_secret_value()
        timeout = aiohttp.ClientWSTimeout(ws_close=10.0)
        async with self._session.ws_connect(
            self.url, headers=auth.bearer(token), heartbeat=HEARTBEAT, timeout=timeout, max_msg_size=0
        ) as ws:
            self.connects += 1
            conn: Connection | None = None
            if self.bot.self_id is not None:
                conn = self._attach(ws, self.bot.self_id)
            try:
                async for msg in ws:
                    if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                        continue
                    text = msg.data if isinstance(msg.data, str) else msg.data.decode("utf-8", errors="replace")
                    if conn is None:
                        conn = self._learn(ws, text)
                    if conn is not None:
                        self.hub.feed(conn, text)
            finally:
                if conn is not None:
                    self.hub.detach(conn)

    def _attach(self, ws: aiohttp.ClientWebSocketResponse, self_id: str) -> Connection:
        self.hub.learned[self_id] = self.bot.platform
        conn = Connection(ws, self_id)
        self.hub.attach(conn)
        return conn

    def _learn(self, ws: aiohttp.ClientWebSocketResponse, text: str) -> Connection | None:
        """Before the account is known: a refusal frame, or the first frame naming it."""
        try:
            payload = json.loads(text)
        except ValueError:
            return None
        if not isinstance(payload, dict):
            return None
        if payload.get("retcode") in REFUSED_CODES and "post_type" not in payload:
            self.refusals += 1
            log.error("the bridge at %s refused the access token (retcode %s)", self.url, payload.get("retcode"))
            return None
        self_id = self_id_of(payload)
        return self._attach(ws, self_id) if self_id is not None else None
