"""Reverse WebSocket: bridges connect to Hearth at ``ws://listen/path`` (aiohttp server).

The handshake names the account (``X-Self-ID``) and the socket's role (``X-Client-Role``:
``Universal`` carries calls and events; ``API`` and ``Event`` are two sockets of one account,
compared case-insensitively because Lagrange sends ``Api``). The token is checked before
the upgrade, in constant time: 401 when missing, 403 when wrong, and nothing is read. A new
socket of an account replaces its older one of the same role, so a bridge that reconnects
before its old socket timed out is not locked out.
"""

from __future__ import annotations

import logging

from aiohttp import WSCloseCode, WSMsgType, web

from adapters.onebot import auth
from adapters.onebot.connection import Connection
from adapters.onebot.hub import Hub
from adapters.onebot.settings import OneBotSettings

log = logging.getLogger(__name__)
ROLES = {"universal": "universal", "api": "api", "event": "event"}
HEARTBEAT = 30.0  # seconds between WebSocket pings (a dead bridge is noticed)
MAX_FRAME = 16 * 1024 * 1024


class ReverseServer:
    def __init__(self, settings: OneBotSettings, hub: Hub) -> None:
        self.settings = settings
        self.hub = hub
        self.refused = 0
        self._runner: web.AppRunner | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self.port: int | None = None

    async def start(self) -> None:
        app = web.Application()
        path = self.settings.path.rstrip("/") or "/"
        app.router.add_get(path, self._handle)
        if path != "/":
            app.router.add_get(path + "/", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("OneBot bridges may connect to ws://%s:%s%s", self.settings.host, self.port, self.settings.path)

    async def stop(self) -> None:
        """Close the bridges' sockets (they reconnect to the next Hearth), then the server."""
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"Hearth is stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        expected = self.settings.access_token.get_secret_value()
        status = auth.refusal(auth.token_of(request.headers, request.query), expected)
        if status is not None:
            self.refused += 1
            log.warning("refused a OneBot connection from %s: %s token", request.remote, _why(status))
            return web.Response(status=status, text="access token missing" if status == 401 else "access token wrong")
        self_id = request.headers.get("X-Self-ID", "").strip()
        role = ROLES.get(request.headers.get("X-Client-Role", "Universal").strip().lower())
        if not self_id or len(self_id) > 64 or role is None:
            return web.Response(status=400, text="X-Self-ID and X-Client-Role (Universal, API or Event) are required")
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_FRAME)
        await ws.prepare(request)
        conn = Connection(ws, self_id, role)
        older = [c for c in self.hub.connections.get(self_id, []) if c.role == role]
        self.hub.attach(conn)
        self._sockets.add(ws)
        for old in older:
            self.hub.detach(old)
            await old.socket.close(code=1000, message=b"replaced by a new connection")
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self.hub.feed(conn, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    self.hub.feed(conn, msg.data.decode("utf-8", errors="replace"))
        finally:
            self._sockets.discard(ws)
            self.hub.detach(conn)
        return ws


def _why(status: int) -> str:
    return "missing" if status == auth.MISSING else "wrong"
