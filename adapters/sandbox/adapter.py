"""The sandbox adapter: an aiohttp web chat (one static page + WebSocket) on 127.0.0.1.

It goes through exactly the same engine, outbox and sender as a real platform: the page's
frames are decoded into events and submitted to the engine; the sender's actions arrive in
:meth:`SandboxAdapter.perform` and are appended to the sandbox's own chat log and pushed to
every open page. Sends are idempotent by the outbox key, like a platform with send ids.
"""

from __future__ import annotations

import json
import logging
import secrets
import weakref
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import EventSink, Feature, PermanentError, SendResult
from adapters.sandbox.decode import PLATFORM, BadFrame, decode
from adapters.sandbox.store import SandboxStore
from bot import actions as act
from bot.clock import Clock
from bot.config import SandboxSettings
from bot.events import split_key
from bot.ratelimit import RateLimits

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


class SandboxAdapter:
    platform = PLATFORM
    features = frozenset(
        {
            Feature.BUTTONS,
            Feature.DIRECT_MESSAGES,
            Feature.INVITE_LINKS,
            Feature.JOIN_ATTRIBUTION,
            Feature.DELETE,
            Feature.MUTE,
            Feature.KICK,
            Feature.REPLIES,
        }
    )

    def __init__(self, settings: SandboxSettings, db: AsyncEngine, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.store = SandboxStore(db)
        self.limits = RateLimits(
            per_second=settings.messages_per_second,
            burst=int(settings.messages_per_second),
            per_chat_per_second=settings.messages_per_chat_per_second,
            per_chat_burst=max(1, int(settings.messages_per_chat_per_second)),
        )
        self.titles = {g.id: g.title or g.id for g in settings.groups}
        self._sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
        self._sink: EventSink | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def groups(self) -> dict[str, str]:
        """The sandbox's groups as chat key -> title."""
        return {f"{PLATFORM}:{g}": t for g, t in self.titles.items()}

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        app = web.Application()
        app.add_routes(
            [
                web.get("/", self._index),
                web.get("/api/state", self._state),
                web.get("/ws", self._ws),
                web.static("/static", STATIC),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{self.settings.host}:{port}/"
        log.info("sandbox chat at %s", self.url)

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- receiving ------------------------------------------------------------------------------

    async def _index(self, _request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def _state(self, _request: web.Request) -> web.Response:
        history = {g: await self.store.history(f"{PLATFORM}:{g}") for g in self.titles}
        return web.json_response(
            {
                "groups": [{"id": g, "title": t} for g, t in self.titles.items()],
                "members": self.settings.members,
                "history": history,
            }
        )

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=64 * 1024)
        await ws.prepare(request)
        self._sockets.add(ws)
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                await self.receive(json.loads(msg.data))
            except (BadFrame, ValueError, TypeError) as err:
                await ws.send_json({"op": "error", "text": str(err)[:200]})
        return ws

    async def receive(self, frame: Any) -> None:
        """Record what a member did on the sandbox 'platform' and hand the event to the engine."""
        if not isinstance(frame, dict):
            raise BadFrame("a frame is a JSON object")
        now = self.clock.now()
        op = frame.get("op")
        decode(frame, "0", now, self.titles)  # validate before anything is stored
        chat = f"{PLATFORM}:{frame['chat']}"
        user = f"{PLATFORM}:{frame['user']}"
        if op == "press":
            ident, creator = secrets.token_hex(8), None
        else:
            text = {"say": frame.get("text", ""), "join": "joined the group", "leave": "left the group"}[op]
            line, _ = await self.store.append(
                chat, user if op == "say" else "system", frame["user"], str(text)[:4000], now
            )
            await self._broadcast(line)
            ident = str(line["id"])
            code = frame.get("invite")
            creator = await self.store.invite_creator(code) if op == "join" and isinstance(code, str) else None
        event = decode(frame, ident, now, self.titles, creator)
        if event is not None and self._sink is not None:
            await self._sink.submit([event])

    async def _broadcast(self, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False)
        for ws in list(self._sockets):
            if not ws.closed:
                try:
                    await ws.send_str(data)
                except (ConnectionError, RuntimeError):
                    pass

    # --- sending ----------------------------------------------------------------------------

    async def perform(self, action: act.Action, idempotency_key: str) -> SendResult:
        now = self.clock.now()
        if isinstance(action, act.SendMessage | act.SendDirect):
            chat = action.chat if isinstance(action, act.SendMessage) else f"dm:{action.user}"
            self._check_chat(chat)
            buttons = [[{"text": b.text, "data": b.data, "url": b.url} for b in row] for row in action.buttons]
            line, new = await self.store.append(chat, "bot", "Hearth", action.content, now, buttons, idempotency_key)
            if new:
                await self._broadcast(line)
            return SendResult(message_id=str(line["id"]))
        if isinstance(action, act.SendPoll):
            text = action.question + "\n" + "\n".join(f"{i}. {o}" for i, o in enumerate(action.options, 1))
            return await self.perform(act.SendMessage(action.chat, text), idempotency_key)
        if isinstance(action, act.DeleteMessage):
            if await self.store.delete(int(action.message_id)):
                await self._broadcast({"op": "delete", "id": int(action.message_id), "chat": action.chat})
            return SendResult()
        if isinstance(action, act.AnswerButton):
            await self._broadcast({"op": "notice", "text": action.text})
            return SendResult()
        if isinstance(action, act.CreateInviteLink):
            code = secrets.token_urlsafe(6)
            await self.store.save_invite(code, action.for_user)
            return SendResult(data={"link": code})
        if isinstance(action, act.KickMember | act.MuteMember):
            verb = "was removed" if isinstance(action, act.KickMember) else "was muted"
            line, new = await self.store.append(
                action.chat, "system", "", f"{split_key(action.user)[1]} {verb}", now, None, idempotency_key
            )
            if new:
                await self._broadcast(line)
            return SendResult()
        raise PermanentError(f"the sandbox cannot do {action.kind}")

    def _check_chat(self, chat: str) -> None:
        platform, ident = split_key(chat)
        if platform == "dm":
            return
        if platform != PLATFORM or ident not in self.titles:
            raise PermanentError(f"no sandbox group {chat}")
