"""The live accounts: their connections, their health, and frames in → committed events out.

Reverse and forward mode both hand every text frame to :meth:`Hub.feed`: an API answer goes
to its waiting call, a meta event (heartbeat, lifecycle) updates the account's health and
stops there, anything else is decoded and queued. One pump submits what is queued to the
engine (``sink.submit`` returns after the commit), in arrival order; what queues up while a
batch commits forms the next one. API answers never wait behind the pump, so filling in a
member's role (an API call) cannot dead-lock the socket it is read from. A failing database
keeps the events queued and retries: OneBot never delivers an event twice, so dropping one
would lose it for good.

Which account sends for a chat: the one that last brought an event from it (and none while
that one is away), else the first connected account of that key prefix.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from adapters.base import EventSink
from adapters.onebot.connection import Connection
from adapters.onebot.decode import decode, ident, is_meta, is_response
from adapters.onebot.roles import RoleCache
from adapters.onebot.settings import OneBotSettings
from bot.clock import Clock
from bot.events import Event, split_key

log = logging.getLogger(__name__)
SUBMIT_RETRY = 2.0  # seconds between tries while the database refuses a batch
MAX_HOMES = 100_000
DRAIN_TIMEOUT = 5.0  # seconds a stop waits for queued events to be committed


@dataclass(slots=True)
class Health:
    """What an account last told us about itself (meta events), for ``hearth`` to show."""

    connected: bool = False
    connected_at: float = 0.0
    last_frame: float = 0.0
    last_heartbeat: float = 0.0
    heartbeat_interval: float | None = None  # seconds
    online: bool | None = None
    good: bool | None = None
    events: int = 0


class Hub:
    def __init__(self, settings: OneBotSettings, roles: RoleCache, clock: Clock) -> None:
        self.settings = settings
        self.roles = roles
        self.clock = clock
        self.sink: EventSink | None = None
        self.connections: dict[str, list[Connection]] = {}
        self.health: dict[str, Health] = {}
        self.homes: dict[str, str] = {}  # chat or member key -> the account that serves it
        self.learned: dict[str, str] = {}  # forward mode: account -> key prefix of its bots entry
        self.skipped = 0
        self._queue: deque[Event] = deque()
        self._more = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None

    # --- connections ------------------------------------------------------------------------------

    def attach(self, conn: Connection) -> None:
        self.connections.setdefault(conn.self_id, []).append(conn)
        health = self.health.setdefault(conn.self_id, Health())
        health.connected, health.connected_at = True, time.monotonic()
        log.info("OneBot account %s connected (%s)", conn.self_id, conn.role)

    def detach(self, conn: Connection) -> None:
        conn.fail_all()
        live = [c for c in self.connections.get(conn.self_id, []) if c is not conn]
        if live:
            self.connections[conn.self_id] = live
        else:
            self.connections.pop(conn.self_id, None)
            if conn.self_id in self.health:
                self.health[conn.self_id].connected = False
            log.warning("OneBot account %s disconnected", conn.self_id)

    def caller(self, self_id: str) -> Connection | None:
        """The newest socket of the account that carries API calls."""
        for conn in reversed(self.connections.get(self_id, [])):
            if conn.can_call:
                return conn
        return None

    def platform_of(self, self_id: str) -> str:
        return self.learned.get(self_id) or self.settings.platform_of(self_id)

    def route(self, target: str) -> Connection | None:
        """The connection that sends to a chat or member key: its account's, while that one is
        away none (another account may not be in that group); unknown ones by key prefix."""
        home = self.homes.get(target)
        if home is not None:
            return self.caller(home)
        platform = split_key(target)[0]
        for self_id in self.connections:
            if self.platform_of(self_id) == platform and (conn := self.caller(self_id)) is not None:
                return conn
        return None

    # --- frames in --------------------------------------------------------------------------------

    def feed(self, conn: Connection, text: str) -> Event | None:
        """Handle one text frame from ``conn``; returns the event it queued, if any."""
        try:
            payload = json.loads(text)
        except ValueError:
            self.skipped += 1
            log.warning("skipped a frame from account %s that is not JSON", conn.self_id)
            return None
        if not isinstance(payload, dict):
            return None
        if is_response(payload):
            conn.resolve(payload)
            return None
        health = self.health.setdefault(conn.self_id, Health())
        health.last_frame = time.monotonic()
        if is_meta(payload):
            self._meta(health, payload)
            return None
        try:
            event = decode(payload, self.platform_of(conn.self_id), self.clock.now())
        except Exception:  # a shape we do not understand: skip it, never stall the socket
            self.skipped += 1
            log.exception("skipped a %s event that could not be decoded", payload.get("post_type"))
            return None
        if event is None:
            return None
        health.events += 1
        self._remember_home(event)
        self._queue.append(event)
        self._more.set()
        return event

    def _meta(self, health: Health, payload: dict[str, Any]) -> None:
        if payload.get("meta_event_type") == "heartbeat":
            health.last_heartbeat = time.monotonic()
            interval = payload.get("interval")
            if isinstance(interval, int | float) and not isinstance(interval, bool) and interval > 0:
                health.heartbeat_interval = interval / 1000
            status = payload.get("status") if isinstance(payload.get("status"), dict) else {}
            online = status.get("online") if isinstance(status.get("online"), bool) else None
            if online is False and health.online is not False:
                log.warning("OneBot account %s reports it is offline (logged out of QQ?)", payload.get("self_id"))
            elif online is True and health.online is False:
                log.info("OneBot account %s is online again", payload.get("self_id"))
            health.online = online
            health.good = status.get("good") if isinstance(status.get("good"), bool) else None

    # --- events out -------------------------------------------------------------------------------

    def start(self, sink: EventSink) -> None:
        self.sink = sink
        if self._pump is None:
            self._pump = asyncio.create_task(self._run(), name="onebot-intake")

    async def stop(self, drain: float = DRAIN_TIMEOUT) -> None:
        """Commit what is queued (for at most ``drain`` seconds: no bridge sends it again), then stop."""
        if self._pump is not None:
            deadline = time.monotonic() + drain
            while self._queue and not self._pump.done() and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            if self._queue:
                log.warning("stopping with %d OneBot event(s) not committed", len(self._queue))
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
            self._pump = None

    @property
    def backlog(self) -> int:
        return len(self._queue)

    async def _run(self) -> None:
        assert self.sink is not None
        while True:
            await self._more.wait()
            self._more.clear()
            batch = list(self._queue)
            if not batch:
                continue
            events = list(await asyncio.gather(*(self._complete(e) for e in batch)))
            while True:
                try:
                    await self.sink.submit(events)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("could not commit %d OneBot event(s); trying again", len(events))
                    await asyncio.sleep(SUBMIT_RETRY)
            for _ in batch:
                self._queue.popleft()
            if self._queue:
                self._more.set()

    async def _complete(self, event: Event) -> Event:
        """The sender's admin flag, from the message's role or the member cache."""
        chat, user = event.chat, event.user
        if chat is None or user is None or chat.type != "group":
            return event
        sender = event.raw.get("sender") if isinstance(event.raw, dict) else None
        role = sender.get("role") if isinstance(sender, dict) else None
        if isinstance(role, str) and role:
            self.roles.remember(event.self_id, chat.id, user.id, role)
            return event
        if event.kind.value != "message.created":
            return event
        admin = await self.roles.is_admin(event.self_id, chat.id, user.id)
        return replace(event, admin=True) if admin else event

    def _remember_home(self, event: Event) -> None:
        if len(self.homes) > MAX_HOMES:
            self.homes.clear()
        for k in (event.chat_key, event.member_key):
            if k is not None:
                self.homes[k] = event.self_id


def self_id_of(payload: dict[str, Any]) -> str | None:
    """The account a frame names (forward mode learns its account this way)."""
    return ident(payload.get("self_id"))
