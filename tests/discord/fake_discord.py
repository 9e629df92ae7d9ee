"""An in-process fake of Discord: REST over real HTTP and the gateway over a real WebSocket (aiohttp).

discord.py talks to it unchanged: the test fixture points ``discord.http.Route.BASE`` (REST,
webhooks and interaction callbacks alike) at ``http://127.0.0.1:<port>/api/v10``, and the
gateway URL comes from ``GET /gateway/bot``, as for any ``AutoShardedClient``. The gateway
speaks API v10's opcodes: HELLO, IDENTIFY (checked token; privileged intents the "portal"
did not enable close the socket with 4014), READY and one GUILD_CREATE per guild,
heartbeats, RESUME. REST answers in Discord's shapes and error bodies
(``{"message", "code"}``); every call is recorded with the time it arrived.

Switches: :attr:`FakeDiscord.forbidden` (route patterns answering 403 "Missing
Permissions"), :attr:`FakeDiscord.closed_dms` (50007), :attr:`FakeDiscord.rate_limited`
(the next N calls of a route get a 429 with Discord's headers and ``retry_after``).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import WSMsgType, web

from tests.discord import payloads as p

MEMBERS, MESSAGE_CONTENT = 1 << 1, 1 << 15


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON the way Discord sends it: ``Content-Type: application/json`` exactly (discord.py checks)."""
    return web.Response(
        body=json.dumps(body).encode(), status=status, headers={"Content-Type": "application/json", **(headers or {})}
    )


@dataclass
class Call:
    method: str
    path: str
    body: Any
    at: float
    reason: str | None = None
    status: int = 200


@dataclass
class Socket:
    ws: web.WebSocketResponse
    intents: int = 0
    session: str = ""


@dataclass
class FakeDiscord:
    token: str = p.TOKEN
    guilds: list[dict[str, Any]] = field(default_factory=lambda: [p.guild()])
    privileged: int = MEMBERS | MESSAGE_CONTENT  # what the Developer Portal has switched on
    calls: list[Call] = field(default_factory=list)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # guild -> registered
    invites: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # guild -> code -> invite
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel -> posted
    members: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (guild, user) -> PATCH body
    kicked: list[tuple[str, str]] = field(default_factory=list)
    callbacks: dict[str, dict[str, Any]] = field(default_factory=dict)  # interaction -> its initial response
    dispatched: dict[str, float] = field(default_factory=dict)  # interaction -> when it was sent
    answered: dict[str, float] = field(default_factory=dict)  # interaction -> when it was acknowledged
    originals: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> the deferred reply
    followups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # token -> follow-ups
    forbidden: list[str] = field(default_factory=list)  # regexes on "METHOD /path"
    closed_dms: set[str] = field(default_factory=set)
    rate_limited: dict[str, int] = field(default_factory=dict)  # regex -> how many 429s are left
    identified: list[dict[str, Any]] = field(default_factory=list)
    dms: dict[str, str] = field(default_factory=dict)  # DM channel -> user
    tokens: set[str] = field(default_factory=set)  # interaction tokens handed out
    sockets: list[Socket] = field(default_factory=list)
    port: int = 0
    _seq: Any = field(default_factory=lambda: itertools.count(1))
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    # --- server ------------------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_post("/_fake/interact", self._control_interact)  # for bench/discord.py
        app.router.add_get("/_fake/stats", self._control_stats)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        for s in list(self.sockets):
            await s.ws.close()
        await self._runner.cleanup()

    def snowflake(self) -> str:
        return p.snowflake(time.time(), next(self._ids))

    # --- the gateway -----------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sock = Socket(ws)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            op = data.get("op")
            if op == 1:
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                await self._identify(sock, data["d"])
            elif op == 6:
                self.sockets.append(sock)
                await ws.send_json({"op": 0, "t": "RESUMED", "s": next(self._seq), "d": {}})
        if sock in self.sockets:
            self.sockets.remove(sock)
        return ws

    async def _identify(self, sock: Socket, d: dict[str, Any]) -> None:
        self.identified.append(d)
        if d.get("token") != self.token:
            await sock.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = int(d.get("intents", 0))
        if intents & (MEMBERS | MESSAGE_CONTENT) & ~self.privileged:
            await sock.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        sock.intents, sock.session = intents, f"session-{next(self._ids)}"
        ready = {
            "v": 10,
            "user": p.BOT_USER,
            "guilds": [{"id": g["id"], "unavailable": True} for g in self.guilds],
            "session_id": sock.session,
            "resume_gateway_url": f"ws://127.0.0.1:{self.port}/gateway",
            "shard": [0, 1],
            "application": {"id": p.APP, "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "user_settings": {},
        }
        await sock.ws.send_json({"op": 0, "t": "READY", "s": next(self._seq), "d": ready})
        for guild in self.guilds:
            await sock.ws.send_json({"op": 0, "t": "GUILD_CREATE", "s": next(self._seq), "d": guild})
        self.sockets.append(sock)

    async def dispatch(self, kind: str, d: dict[str, Any]) -> None:
        """Send a dispatch to every identified session."""
        frame = {"op": 0, "t": kind, "s": None, "d": d}
        for sock in list(self.sockets):
            frame["s"] = next(self._seq)
            await sock.ws.send_str(json.dumps(frame))

    async def interact(self, d: dict[str, Any]) -> str:
        """Dispatch an ``INTERACTION_CREATE``; returns its id."""
        self.dispatched[d["id"]] = time.monotonic()
        self.tokens.add(d["token"])
        await self.dispatch("INTERACTION_CREATE", d)
        return str(d["id"])

    async def join(self, guild: str, user: dict[str, Any], code: str | None = None, flags: int = 0) -> None:
        """Someone joins ``guild`` (through invite ``code``: its use count moves first, as on Discord)."""
        if code is not None:
            self.invites[guild][code]["uses"] += 1
        await self.dispatch("GUILD_MEMBER_ADD", p.member_add(guild, user, flags))

    async def connected(self, within: float = 10.0) -> None:
        await self.wait_for(lambda: bool(self.sockets), within)

    async def wait_for(self, predicate: Any, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("the fake Discord did not see it")
            await asyncio.sleep(0.01)

    async def _control_interact(self, request: web.Request) -> web.Response:
        """Dispatch many ``INTERACTION_CREATE`` bodies at once (a benchmark in another process)."""
        for d in await request.json():
            await self.interact(d)
        return reply({"ok": True})

    async def _control_stats(self, request: web.Request) -> web.Response:
        acks = sorted(self.answered[i] - t for i, t in self.dispatched.items() if i in self.answered)
        edits = [c.at for c in self.calls if c.path.startswith("/webhooks/") and c.method in ("PATCH", "POST")]
        first = min(self.dispatched.values(), default=0.0)
        return reply(
            {
                "sessions": len(self.sockets),
                "dispatched": len(self.dispatched),
                "acknowledged": len(acks),
                "answered": len(self.originals.keys() | self.followups.keys()),
                "ack_p50": acks[len(acks) // 2] if acks else None,
                "ack_max": acks[-1] if acks else None,
                "seconds": (max(edits) - first) if edits else None,
            }
        )

    # --- REST --------------------------------------------------------------------------------------

    def sent(self, method: str, pattern: str = "") -> list[Call]:
        return [c for c in self.calls if c.method == method and re.search(pattern, c.path)]

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        body = await request.json() if request.can_read_body else None
        reason = request.headers.get("X-Audit-Log-Reason")
        call = Call(request.method, path, body, time.monotonic(), unquote(reason) if reason else None)
        self.calls.append(call)
        webhook = path.startswith(("/interactions/", "/webhooks/"))
        if not webhook and request.headers.get("Authorization") != f"Bot {self.token}":
            return self._error(call, 401, 0, "401: Unauthorized")
        line = f"{request.method} {path}"
        for pattern, left in list(self.rate_limited.items()):
            if left > 0 and re.search(pattern, line):
                self.rate_limited[pattern] = left - 1
                call.status = 429
                headers = {"Via": "1.1 google", "X-RateLimit-Remaining": "0", "X-RateLimit-Scope": "user"}
                headers |= {"X-RateLimit-Limit": "5", "X-RateLimit-Reset-After": "0.2", "X-RateLimit-Bucket": "b1"}
                body = {"message": "You are being rate limited.", "retry_after": 0.2, "global": False}
                return reply(body, 429, headers)
        if any(re.search(f, line) for f in self.forbidden):
            return self._error(call, 403, 50013, "Missing Permissions")
        try:
            result = self._route(request.method, path, body, request.query, call)
        except LookupError as err:
            return self._error(call, 404, int(err.args[0]), str(err.args[1]))
        except PermissionError as err:
            return self._error(call, 403, int(err.args[0]), str(err.args[1]))
        if result is None:
            return web.Response(status=204)
        return reply(result)

    def _error(self, call: Call, status: int, code: int, message: str) -> web.Response:
        call.status = status
        return reply({"message": message, "code": code}, status)

    def _route(self, method: str, path: str, body: Any, query: Any, call: Call) -> Any:
        parts = path.strip("/").split("/")
        if path == "/gateway/bot":
            limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
            return {"url": f"ws://127.0.0.1:{self.port}/gateway", "shards": 1, "session_start_limit": limit}
        if path == "/users/@me" and method == "GET":
            return p.BOT_USER
        if path == "/oauth2/applications/@me":
            return p.application()
        if path == "/users/@me/channels" and method == "POST":
            user = str(body["recipient_id"])
            channel = next((c for c, u in self.dms.items() if u == user), None) or self.snowflake()
            self.dms[channel] = user
            return {"id": channel, "type": 1, "recipients": [{"id": user}]}
        if parts[0] == "applications" and parts[4] == "commands":
            guild = parts[3]
            if method == "PUT":
                self.commands[guild] = [{**c, "id": self.snowflake(), "application_id": p.APP} for c in body]
            return self.commands.get(guild, [])
        if parts[0] == "channels":
            return self._channel(method, parts[1], parts[2:], body)
        if parts[0] == "guilds":
            return self._guild(method, parts[1], parts[2:], body)
        if parts[0] == "interactions":  # /interactions/{id}/{token}/callback
            self.answered.setdefault(parts[1], call.at)
            if parts[1] in self.callbacks:
                raise PermissionError(40060, "Interaction has already been acknowledged.")
            self.callbacks[parts[1]] = body
            return None
        if parts[0] == "webhooks":
            return self._webhook(method, parts[2], parts[3:], body)
        raise LookupError(0, f"404: Not Found ({method} {path})")

    def _message(self, channel: str, body: dict[str, Any], flags: int = 0) -> dict[str, Any]:
        return {
            "id": self.snowflake(),
            "channel_id": channel,
            "type": 0,
            "author": p.BOT_USER,
            "content": body.get("content", ""),
            "components": body.get("components", []),
            "embeds": [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "flags": flags | int(body.get("flags", 0)),
            "timestamp": "2026-03-01T12:00:00.000000+00:00",
            "edited_timestamp": None,
            "message_reference": body.get("message_reference"),
        }

    def _channel(self, method: str, channel: str, rest: list[str], body: Any) -> Any:
        if rest == ["messages"] and method == "POST":
            if self.dms.get(channel) in self.closed_dms:
                raise PermissionError(50007, "Cannot send messages to this user")
            message = self._message(channel, body)
            self.messages.setdefault(channel, []).append(message)
            return message
        if len(rest) == 2 and rest[0] == "messages" and method == "DELETE":
            before = self.messages.get(channel, [])
            self.messages[channel] = [m for m in before if m["id"] != rest[1]]
            if len(before) == len(self.messages[channel]):
                raise LookupError(10008, "Unknown Message")
            return None
        if len(rest) == 5 and rest[2] == "reactions" and method == "PUT":
            return None
        if rest == ["invites"] and method == "POST":
            guild = next(g["id"] for g in self.guilds if any(c["id"] == channel for c in g["channels"]))
            code = f"hearth{next(self._ids)}"
            invite = p.invite(code, guild, channel, p.BOT_USER, uses=0, max_uses=body.get("max_uses", 0))
            self.invites.setdefault(guild, {})[code] = invite
            return invite
        raise LookupError(0, "404: Not Found")

    def _guild(self, method: str, guild: str, rest: list[str], body: Any) -> Any:
        if rest == ["invites"] and method == "GET":
            return list(self.invites.get(guild, {}).values())
        if len(rest) == 2 and rest[0] == "members":
            if method == "PATCH":
                self.members[(guild, rest[1])] = body
                return p.member_add(guild, {"id": rest[1], "username": "x", "discriminator": "0", "avatar": None})
            if method == "DELETE":
                self.kicked.append((guild, rest[1]))
                return None
        raise LookupError(0, "404: Not Found")

    def _webhook(self, method: str, token: str, rest: list[str], body: Any) -> Any:
        if token not in self.tokens:
            raise LookupError(10015, "Unknown Webhook")
        if rest == ["messages", "@original"]:
            if method == "DELETE":
                self.originals.pop(token, None)
                return None
            if method == "PATCH":
                self.originals[token] = message = self._message("", body)
                return message
        if not rest and method == "POST":
            message = self._message("", body)
            self.followups.setdefault(token, []).append(message)
            return message
        raise LookupError(0, "404: Not Found")
