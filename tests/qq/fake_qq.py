"""An in-process fake of the official QQ bot platform over real HTTP and WebSocket (aiohttp).

* ``POST /app/getAppAccessToken`` ``{appId, clientSecret}`` → ``{access_token, expires_in}``
* ``POST /v2/groups/{id}/messages`` and ``/v2/users/{id}/messages`` with the platform's rules:
  ``Authorization: QQBot <token>`` (401 otherwise), a passive reply needs a known ``msg_id`` /
  ``event_id`` with a fresh ``msg_seq`` (40054005 on a repeat), at most 5 per id; a message
  without one is proactive and refused with 40034102 unless the group allows it
* ``PUT /interactions/{id}``; ``GET /gateway``; ``GET /websocket`` (the gateway: Hello,
  Identify checked against the granted intents, READY, heartbeats answered, Resume replaying
  what a session missed, and switches for ``op`` 7 and ``op`` 9)
* :meth:`FakeQQ.call_webhook` calls Hearth's callback exactly as the platform does: signed with
  the Ed25519 key derived from the bot secret over ``X-Signature-Timestamp`` + raw body.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from typing import Any

import aiohttp
from aiohttp import web

from adapters.qq.settings import GROUP_AND_C2C_EVENT, GROUP_MEMBERS, INTERACTION
from adapters.qq.sign import Signer


class FakeQQ:
    def __init__(self, app_id: str, secret: str) -> None:
        self.app_id = app_id
        self.secret = secret
        self._platform_key = Signer(secret)
        self.valid_tokens: set[str] = set()
        self.tokens_issued = 0
        self.sent: list[tuple[str, str, dict[str, Any]]] = []  # (scope, openid, body) accepted
        self.refused: list[tuple[str, str, dict[str, Any], int]] = []
        self.interactions: list[tuple[str, dict[str, Any]]] = []
        self.proactive_allowed: set[str] = set()
        self.rate_limited: int = 0  # answer the next N sends with 22009
        self._seqs: set[tuple[str, int]] = set()
        self._replies: Counter[str] = Counter()
        self._ids = itertools.count(1)
        # gateway
        self.granted_intents = GROUP_AND_C2C_EVENT | GROUP_MEMBERS | INTERACTION
        self.heartbeat_ms = 50
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.heartbeats: list[Any] = []
        self.connections = 0
        self._sessions: dict[str, list[dict[str, Any]]] = {}
        self._ws: web.WebSocketResponse | None = None
        self._session_id: str | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> FakeQQ:
        app = web.Application()
        app.router.add_post("/app/getAppAccessToken", self._token)
        app.router.add_post("/v2/groups/{openid}/messages", self._group_send)
        app.router.add_post("/v2/users/{openid}/messages", self._user_send)
        app.router.add_put("/interactions/{id}", self._interaction)
        app.router.add_get("/gateway", self._gateway_url)
        app.router.add_get("/websocket", self._websocket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self._http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what Hearth sees as the platform ---------------------------------------------------------

    async def call_webhook(
        self, url: str, payload: dict[str, Any], *, signature: str | None = "sign", timestamp: str = ""
    ) -> aiohttp.ClientResponse:
        """POST ``payload`` to Hearth's callback as the platform does (``signature=None``: unsigned,
        any other string but "sign": that header verbatim)."""
        assert self._http is not None
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        ts = timestamp or str(int(time.time()))
        headers = {"Content-Type": "application/json", "User-Agent": "QQBot-Callback"}
        if signature is not None:
            headers["X-Signature-Timestamp"] = ts
            headers["X-Signature-Ed25519"] = (
                self._platform_key.sign(ts.encode() + body) if signature == "sign" else signature
            )
        resp = await self._http.post(url, data=body, headers=headers)
        await resp.read()
        return resp

    def passive(self, ref: str) -> list[dict[str, Any]]:
        """Accepted messages that replied to ``ref`` (a msg_id or event_id)."""
        return [b for _, _, b in self.sent if b.get("msg_id") == ref or b.get("event_id") == ref]

    def proactive(self) -> list[tuple[str, str, dict[str, Any]]]:
        return [s for s in self.sent if "msg_id" not in s[2] and "event_id" not in s[2]]

    def expire_tokens(self) -> None:
        self.valid_tokens.clear()

    # --- HTTP -------------------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("appId") != self.app_id or body.get("clientSecret") != self.secret:
            return web.json_response({"code": 100016, "message": "invalid appid or secret"})
        self.tokens_issued += 1
        token = f"tok-{self.tokens_issued}-{next(self._ids)}"
        self.valid_tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": "7200"})

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme == "QQBot" and token in self.valid_tokens

    async def _group_send(self, request: web.Request) -> web.Response:
        return await self._send(request, "group")

    async def _user_send(self, request: web.Request) -> web.Response:
        return await self._send(request, "c2c")

    async def _send(self, request: web.Request, scope: str) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": 11244, "message": "token not exist or expire"}, status=401)
        openid = request.match_info["openid"]
        body = await request.json()
        ref = body.get("msg_id") or body.get("event_id")
        error: tuple[int, str] | None = None
        if self.rate_limited > 0:
            self.rate_limited -= 1
            error = (22009, "msg limit exceed")
        elif ref is None:
            if scope == "c2c" or openid not in self.proactive_allowed:
                error = (40034102, "主动消息失败, 无权限")
        elif (ref, body.get("msg_seq")) in self._seqs:
            error = (40054005, "消息被去重，请检查请求msgseq")
        elif self._replies[ref] >= 5:
            error = (40034025, "被动回复次数超限")
        if error is not None:
            self.refused.append((scope, openid, body, error[0]))
            return web.json_response({"code": error[0], "message": error[1], "trace_id": "t"}, status=400)
        if ref is not None:
            self._seqs.add((ref, body.get("msg_seq")))
            self._replies[ref] += 1
        self.sent.append((scope, openid, body))
        return web.json_response({"id": f"sent-{next(self._ids)}", "timestamp": int(time.time())})

    async def _interaction(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": 11244, "message": "token not exist or expire"}, status=401)
        self.interactions.append((request.match_info["id"], await request.json()))
        return web.Response(status=204)

    async def _gateway_url(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"code": 11244, "message": "token not exist or expire"}, status=401)
        return web.json_response({"url": self.url.replace("http", "ws", 1) + "/websocket"})

    # --- the gateway ------------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.connections += 1
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": self.heartbeat_ms}})
        first = await ws.receive_json()
        d = first.get("d") or {}
        if str(d.get("token", "")).removeprefix("QQBot ") not in self.valid_tokens:
            await ws.close(code=4004, message=b"invalid token")
            return ws
        if first.get("op") == 2:
            self.identifies.append(d)
            if d.get("intents", 0) & ~self.granted_intents:
                await ws.send_json({"op": 9, "d": False})
                await ws.close(code=4014, message=b"disallowed intents")
                return ws
            self._session_id = f"session-{next(self._ids)}"
            self._sessions[self._session_id] = []
            await ws.send_json(
                {"op": 0, "s": 1, "t": "READY", "d": {"session_id": self._session_id, "user": {"id": "bot"}}}
            )
        elif first.get("op") == 6:
            self.resumes.append(d)
            history = self._sessions.get(d.get("session_id"))
            if history is None:
                await ws.send_json({"op": 9, "d": False})
                await ws.close()
                return ws
            self._session_id = d["session_id"]
            for payload in history:
                if payload["s"] > (d.get("seq") or 0):
                    await ws.send_json(payload)
            await ws.send_json({"op": 0, "s": self._last_seq(), "t": "RESUMED", "d": ""})
        self._ws = ws
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            if data.get("op") == 1:
                self.heartbeats.append(data.get("d"))
                await ws.send_json({"op": 11})
        if self._ws is ws:
            self._ws = None
        return ws

    def _last_seq(self) -> int:
        history = self._sessions.get(self._session_id or "", [])
        return history[-1]["s"] if history else 1

    async def push(self, payload: dict[str, Any]) -> int:
        """Send a dispatch on the current session (kept for Resume); returns its seq."""
        assert self._session_id is not None
        seq = self._last_seq() + 1
        message = {**payload, "s": seq}
        self._sessions[self._session_id].append(message)
        if self._ws is not None and not self._ws.closed:
            await self._ws.send_json(message)
        return seq

    async def drop(self) -> None:
        """The connection breaks (the session survives, so the client may resume)."""
        if self._ws is not None:
            await self._ws.close(code=4009, message=b"connection timed out")

    async def ask_reconnect(self) -> None:
        assert self._ws is not None
        await self._ws.send_json({"op": 7})

    async def invalidate(self) -> None:
        """The session is invalid: ``op`` 9; a Resume of it will be refused too."""
        assert self._ws is not None
        self._sessions.pop(self._session_id or "", None)
        self._session_id = None
        await self._ws.send_json({"op": 9, "d": False})

    @property
    def online(self) -> bool:
        return self._ws is not None and not self._ws.closed

    async def wait_for(self, predicate: Any, within: float = 20.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("condition not reached")
            await asyncio.sleep(0.01)
