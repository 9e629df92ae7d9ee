"""An in-process fake OneBot v11 implementation (a NapCat-like bridge) over real WebSockets.

:class:`FakeAccount` is one QQ account: it answers the API calls Hearth makes (matched by
``echo``, as the spec says), records them, and pushes events as JSON frames. It reaches
Hearth either way the protocol allows:

* reverse: :meth:`FakeAccount.connect` dials Hearth's ``/onebot/v11/ws`` with
  ``X-Self-ID``, ``X-Client-Role`` and ``Authorization: Bearer`` (an aiohttp client);
* forward: :class:`FakeBridgeServer` listens (an aiohttp server), checks the token as
  Lagrange does (HTTP 403) or as NapCat does (upgrade, a ``retcode`` 1403 frame, close),
  sends the ``lifecycle`` event on connect, and can :meth:`~FakeBridgeServer.drop` every
  socket to imitate a lost connection.

Switches: ``fail`` (the next calls of an action answer ``failed`` with a retcode),
``silent`` (actions never answered, as LLOneBot does on a parameter error), ``roles``
(what ``get_group_member_info`` says).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web


@dataclass
class Call:
    action: str
    params: dict[str, Any]
    echo: Any


@dataclass
class FakeAccount:
    self_id: int
    calls: list[Call] = field(default_factory=list)
    roles: dict[tuple[int, int], str] = field(default_factory=dict)
    fail: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    silent: set[str] = field(default_factory=set)
    sockets: list[Any] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1_000_001))
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _session: aiohttp.ClientSession | None = None
    _readers: list[asyncio.Task] = field(default_factory=list)

    # --- what Hearth did ------------------------------------------------------------------------

    def sent(self, action: str | None = None, **params: Any) -> list[dict[str, Any]]:
        return [
            c.params
            for c in self.calls
            if (action is None or c.action == action) and all(c.params.get(k) == v for k, v in params.items())
        ]

    async def wait_for(self, predicate: Any, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"condition not reached; calls: {[c.action for c in self.calls]}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 0.2))
            except TimeoutError:
                pass

    # --- answering --------------------------------------------------------------------------------

    async def answer(self, ws: Any, text: str) -> None:
        frame = json.loads(text)
        action, params, echo = frame["action"], frame.get("params") or {}, frame.get("echo")
        self.calls.append(Call(action, params, echo))
        self._changed.set()
        if action in self.silent:
            return
        queued = self.fail.get(action)
        if queued:
            retcode, message = queued.pop(0)
            reply = {"status": "failed", "retcode": retcode, "data": None, "message": message, "echo": echo}
        else:
            reply = {"status": "ok", "retcode": 0, "data": self._data(action, params), "echo": echo}
        await ws.send_str(json.dumps(reply, ensure_ascii=False))

    def _data(self, action: str, params: dict[str, Any]) -> Any:
        if action in ("send_group_msg", "send_private_msg", "send_msg"):
            return {"message_id": next(self._ids)}
        if action == "get_group_member_info":
            role = self.roles.get((int(params["group_id"]), int(params["user_id"])), "member")
            return {"group_id": params["group_id"], "user_id": params["user_id"], "role": role, "nickname": "x"}
        return None

    async def read(self, ws: Any) -> None:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                await self.answer(ws, msg.data)
        self._changed.set()

    # --- sending events ---------------------------------------------------------------------------

    async def push(self, *events: dict[str, Any]) -> None:
        live = [ws for ws in self.sockets if not ws.closed]
        assert live, "the account is not connected"
        for event in events:
            await live[-1].send_str(json.dumps(event, ensure_ascii=False))

    # --- reverse mode: dial Hearth ----------------------------------------------------------------

    async def connect(self, url: str, token: str | None, role: str = "Universal", query_token: bool = False) -> Any:
        """Connect to Hearth as NapCat does; returns the socket (raises on a refused handshake)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"X-Self-ID": str(self.self_id), "X-Client-Role": role, "User-Agent": "OneBot/11"}
        if token is not None and not query_token:
            headers["Authorization"] = f"Bearer {token}"
        target = f"{url}?access_token={token}" if query_token and token else url
        ws = await self._session.ws_connect(target, headers=headers)
        self.sockets.append(ws)
        self._readers.append(asyncio.create_task(self.read(ws)))
        await ws.send_str(json.dumps(lifecycle(self.self_id)))
        return ws

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        if self._session is not None:
            await self._session.close()


class FakeBridgeServer:
    """Forward mode: the bridge listens; Hearth connects with the token."""

    def __init__(self, account: FakeAccount, token: str, refusal: str = "http") -> None:
        self.account = account
        self.token = token
        self.refusal = refusal  # "http" (Lagrange: 403) or "frame" (NapCat: a 1403 frame)
        self.connects = 0
        self.refused = 0
        self.down = False  # refuse every connection (503), as a bridge that is restarting
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> FakeBridgeServer:
        app = web.Application()
        app.router.add_get("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"ws://127.0.0.1:{self._runner.addresses[0][1]}/"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.drop()
        assert self._runner is not None
        await self._runner.cleanup()

    async def drop(self) -> None:
        """Close every socket, as a bridge restart or a network cut does."""
        for ws in list(self.account.sockets):
            await ws.close()
        self.account.sockets.clear()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.down:
            return web.Response(status=503, text="starting")
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if given != self.token and self.refusal == "http":
            self.refused += 1
            return web.Response(status=403, text="token wrong")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if given != self.token:
            self.refused += 1
            await ws.send_str(json.dumps({"status": "failed", "retcode": 1403, "message": "token验证失败"}))
            await ws.close()
            return ws
        self.connects += 1
        self.account.sockets.append(ws)
        await ws.send_str(json.dumps(lifecycle(self.account.self_id)))
        self.account._changed.set()
        await self.account.read(ws)
        return ws


# --- payloads, as NapCat sends them -----------------------------------------------------------------


def lifecycle(self_id: int) -> dict[str, Any]:
    return {
        "time": int(time.time()),
        "self_id": self_id,
        "post_type": "meta_event",
        "meta_event_type": "lifecycle",
        "sub_type": "connect",
    }


def heartbeat(self_id: int, interval: int = 30000) -> dict[str, Any]:
    return {
        "time": int(time.time()),
        "self_id": self_id,
        "post_type": "meta_event",
        "meta_event_type": "heartbeat",
        "status": {"online": True, "good": True},
        "interval": interval,
    }


_message_ids = itertools.count(1)


def group_message(
    self_id: int, group_id: int, user_id: int, message: Any, name: str = "Bob", role: str | None = "member"
) -> dict[str, Any]:
    """A group message; ``message`` is a segment array or a CQ string."""
    sender: dict[str, Any] = {"user_id": user_id, "nickname": name, "card": ""}
    if role is not None:
        sender["role"] = role
    return {
        "time": int(time.time()),
        "self_id": self_id,
        "post_type": "message",
        "message_type": "group",
        "sub_type": "normal",
        "message_id": next(_message_ids),
        "group_id": group_id,
        "user_id": user_id,
        "anonymous": None,
        "message": message,
        "raw_message": message if isinstance(message, str) else "",
        "font": 0,
        "sender": sender,
    }


def group_increase(self_id: int, group_id: int, user_id: int, operator_id: int, sub_type: str) -> dict[str, Any]:
    return {
        "time": int(time.time()),
        "self_id": self_id,
        "post_type": "notice",
        "notice_type": "group_increase",
        "sub_type": sub_type,
        "group_id": group_id,
        "operator_id": operator_id,
        "user_id": user_id,
    }
