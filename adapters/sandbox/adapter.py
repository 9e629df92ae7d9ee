"""The sandbox adapter: an aiohttp web chat (one static page + WebSocket) on 127.0.0.1.

It goes through exactly the same engine, outbox and sender as a real platform: the page's
frames are decoded into events and submitted to the engine; the sender's actions arrive in
:meth:`SandboxAdapter.perform` and are appended to the sandbox's own chat log and pushed to
every open page. Sends are idempotent by the outbox key, like a platform with send ids.

A frame the page should not send gets ``{"op": "error", "text": ...}`` back on the same
socket; the socket stays open and nothing reaches the engine.
"""

from __future__ import annotations

import errno
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
MAX_FRAME_BYTES = 64 * 1024
MAX_OPEN_CALLBACKS = 1000
SYSTEM_TEXT = {"join": "joined the group", "leave": "left the group"}


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
            Feature.REACTIONS,
        }
    )

    def __init__(self, settings: SandboxSettings, db: AsyncEngine, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.store = SandboxStore(db)
        self.limits = RateLimits(
            per_second=settings.messages_per_second,
            burst=max(1, int(settings.messages_per_second)),
            per_chat_per_second=settings.messages_per_chat_per_second,
            per_chat_burst=max(1, int(settings.messages_per_chat_per_second)),
        )
        self.titles = {g.id: g.title or g.id for g in settings.groups}
        self._sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
        self._callbacks: weakref.WeakValueDictionary[str, web.WebSocketResponse] = weakref.WeakValueDictionary()
        self._sink: EventSink | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def groups(self) -> dict[str, str]:
        """The sandbox's groups as chat key -> title."""
        return {f"{PLATFORM}:{g}": t for g, t in self.titles.items()}

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        """Serve the page; :attr:`url` then holds the address actually bound (also for port 0)."""
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
        try:
            await self._bind()
        except BaseException:
            await self._runner.cleanup()
            self._runner = None
            raise
        self.url = self._url()
        log.info("sandbox chat at %s", self.url)

    async def _bind(self) -> None:
        """Listen on the configured port; a busy *default* port falls back to a free one."""
        assert self._runner is not None
        host, port = self.settings.host, self.settings.port
        site = web.TCPSite(self._runner, host, port)
        try:
            await site.start()
            return
        except OSError as err:
            await site.stop()
            if err.errno != errno.EADDRINUSE:
                raise
            if "port" in self.settings.model_fields_set:
                raise OSError(
                    errno.EADDRINUSE,
                    f"port {port} on {host} is already in use; set [platforms.sandbox] port to a free one (0 = any)",
                ) from None
        log.warning("port %d on %s is in use; the sandbox takes a free port instead", port, host)
        await web.TCPSite(self._runner, host, 0).start()

    def _url(self) -> str:
        assert self._runner is not None
        host, port = self._runner.addresses[0][:2]
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- receiving ------------------------------------------------------------------------------

    async def _index(self, _request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def _state(self, _request: web.Request) -> web.Response:
        history = {g: await self.store.history(f"{PLATFORM}:{g}") for g in self.titles}
        direct = {m: await self.store.history(f"dm:{PLATFORM}:{m}") for m in self.settings.members}
        return web.json_response(
            {
                "groups": [{"id": g, "title": t} for g, t in self.titles.items()],
                "members": self.settings.members,
                "history": history,
                "direct": direct,
            }
        )

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME_BYTES)
        await ws.prepare(request)
        self._sockets.add(ws)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                problem = await self._handle(msg.data, ws)
            elif msg.type == WSMsgType.BINARY:
                problem = "frames are JSON text"
            else:
                break
            if problem:
                await self._send(ws, {"op": "error", "text": problem})
        return ws

    async def _handle(self, data: str, ws: web.WebSocketResponse) -> str | None:
        """Handle one text frame; returns the short problem to show the page, if any."""
        try:
            frame = json.loads(data)
        except ValueError:
            return "a frame is a JSON object"
        try:
            await self.receive(frame, ws)
        except BadFrame as err:
            return str(err)[:200]
        except Exception:  # the engine or database failed: the page gets a short answer, not internals
            log.exception("sandbox frame could not be handled")
            return "the bot could not take that message; try again"
        return None

    async def receive(self, frame: Any, origin: web.WebSocketResponse | None = None) -> None:
        """Record what a member did on the sandbox 'platform' and hand the event to the engine.

        Raises :class:`BadFrame` for a frame the page should not send; nothing is stored then.
        """
        now = self.clock.now()
        checked = decode(frame, "0", now, self.titles)  # validate before anything is stored
        op, chat_id, user = frame["op"], frame["chat"], checked.user
        assert user is not None
        if chat_id not in self.titles:
            raise BadFrame(f"no group {chat_id!r} in this sandbox")
        chat = f"{PLATFORM}:{chat_id}"
        creator = None
        if op == "press":
            ident = secrets.token_hex(8)
            if origin is not None:
                if len(self._callbacks) >= MAX_OPEN_CALLBACKS:  # presses nobody answered
                    self._callbacks.pop(next(iter(self._callbacks)), None)
                self._callbacks[ident] = origin
        else:
            text = frame["text"] if op == "say" else SYSTEM_TEXT[op]
            sender = user.key if op == "say" else "system"
            line, _ = await self.store.append(chat, sender, user.name, text, now)
            await self._broadcast(line)
            ident = str(line["id"])
            code = frame.get("invite") if op == "join" else None
            creator = await self.store.invite_creator(code) if code else None
        event = decode(frame, ident, now, self.titles, creator)
        if self._sink is not None:
            await self._sink.submit([event])

    async def _send(self, ws: web.WebSocketResponse, payload: dict) -> None:
        if ws.closed:
            return
        try:
            await ws.send_str(json.dumps(payload, ensure_ascii=False))
        except (ConnectionError, RuntimeError):
            pass  # the page went away; it reloads the history when it reconnects

    async def _broadcast(self, payload: dict) -> None:
        for ws in list(self._sockets):
            await self._send(ws, payload)

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
            if not action.message_id.isdigit():
                raise PermanentError("no such sandbox message")
            if await self.store.delete(int(action.message_id)):
                await self._broadcast({"op": "delete", "id": int(action.message_id), "chat": action.chat})
            return SendResult()
        if isinstance(action, act.AnswerButton):
            ws = self._callbacks.pop(action.callback_id, None)
            if ws is not None and action.text:
                await self._send(ws, {"op": "notice", "text": action.text, "alert": action.alert})
            return SendResult()
        if isinstance(action, act.CreateInviteLink):
            code = secrets.token_urlsafe(6)
            await self.store.save_invite(code, action.for_user)
            return SendResult(data={"link": code})
        if isinstance(action, act.React):
            self._check_chat(action.chat)
            if not action.message_id.isdigit() or not action.emoji.strip():
                raise PermanentError("no such sandbox message, or no emoji")
            emoji = action.emoji.strip()[:16]
            if not await self.store.react(action.chat, int(action.message_id), emoji):
                raise PermanentError("no such sandbox message")
            await self._broadcast({"op": "react", "id": int(action.message_id), "chat": action.chat, "emoji": emoji})
            return SendResult()
        if isinstance(action, act.KickMember | act.MuteMember | act.UnmuteMember):
            self._check_chat(action.chat)
            verb = {act.KickMember: "was removed", act.MuteMember: "was muted"}.get(type(action), "may speak again")
            line, new = await self.store.append(
                action.chat, "system", split_key(action.user)[1], verb, now, None, idempotency_key
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
