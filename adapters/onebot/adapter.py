"""The OneBot v11 adapter: reverse or forward WebSockets (aiohttp), one :class:`Hub` of
accounts, and actions sent as API calls matched by ``echo``.

The adapter serves the key prefix ``onebot`` and every platform name its bots are given
(``qq``, ``wechat``): :func:`bot.platforms.build_adapters` lists it under each (the app
starts and stops it once).

While no account can send to a chat, :meth:`perform` raises ``TemporaryError(not_sent=True)``
and the outbox keeps the message without counting a try, however long the bridge is away; the
wait between looks grows with each try of the same message (counted here, by idempotency key).
There are no buttons on OneBot: ``Feature.BUTTONS`` is not declared, so campaigns offer
numbered text choices instead.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import EventSink, Feature, SendResult, TemporaryError
from adapters.onebot.client import ForwardClient
from adapters.onebot.encode import encode, wire_id
from adapters.onebot.errors import classify
from adapters.onebot.hub import Hub
from adapters.onebot.roles import RoleCache
from adapters.onebot.server import ReverseServer
from adapters.onebot.settings import TABLE, OneBotSettings
from bot import actions as act
from bot.clock import Clock
from bot.logs import SecretFilter
from bot.ratelimit import RateLimits

log = logging.getLogger(__name__)
ROLE_TIMEOUT = 5.0  # seconds: a role lookup delays the batch it is for, so it may not hang
OFFLINE_WAITS = (5.0, 10.0, 20.0, 40.0, 80.0, 120.0)  # seconds before the next try, per try


def rate_limits(s: OneBotSettings) -> RateLimits:
    """Slow on purpose: a personal account that sends fast is flagged by QQ's risk control."""
    per_chat = s.group_messages_per_minute / 60
    return RateLimits(
        per_second=s.messages_per_second,
        burst=max(1, min(3, int(s.messages_per_second * 2))),
        per_chat_per_second=per_chat,
        per_chat_burst=max(1, min(3, int(s.group_messages_per_minute // 10))),
    )


class OneBotAdapter:
    platform = TABLE
    features = frozenset(
        {
            Feature.DIRECT_MESSAGES,
            Feature.JOIN_ATTRIBUTION,
            Feature.DELETE,
            Feature.MUTE,
            Feature.KICK,
            Feature.REPLIES,
        }
    )

    def __init__(self, settings: OneBotSettings, db: AsyncEngine | None, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.limits = rate_limits(settings)
        self.scrub = SecretFilter(settings.secrets())
        self.roles = RoleCache(self._member_info, settings.member_cache_ttl.total_seconds())
        self.hub = Hub(settings, self.roles, clock)
        self.server: ReverseServer | None = None
        self.clients: list[ForwardClient] = []
        self._offline: OrderedDict[str, int] = OrderedDict()  # idempotency key -> tries while offline

    def __repr__(self) -> str:
        return f"OneBotAdapter(mode={self.settings.mode}, accounts={sorted(self.hub.connections)})"

    @property
    def key_platforms(self) -> set[str]:
        return {TABLE} | self.settings.key_platforms()

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        self.hub.start(sink)
        if self.settings.mode == "reverse":
            self.server = ReverseServer(self.settings, self.hub)
            await self.server.start()
        else:
            self.clients = [ForwardClient(self.settings, bot, self.hub) for bot in self.settings.bots]
            for client in self.clients:
                client.start()

    async def stop(self) -> None:
        """Stop receiving, commit what was received, then stop."""
        for client in self.clients:
            await client.stop()
        self.clients = []
        if self.server is not None:
            await self.server.stop()
            self.server = None
        await self.hub.stop()

    # --- actions --------------------------------------------------------------------------------

    async def perform(self, action: act.Action, idempotency_key: str) -> SendResult:
        call = encode(action)
        if call is None:
            return SendResult()
        name, params = call
        conn = self.hub.route(act.target_of(action))
        if conn is None:
            raise TemporaryError(
                "no OneBot bridge is connected for that chat", retry_after=self._wait(idempotency_key), not_sent=True
            )
        try:
            data = await conn.call(name, params, self.settings.api_timeout.total_seconds())
        except ConnectionError:
            raise TemporaryError("the OneBot bridge disconnected", retry_after=self._wait(idempotency_key)) from None
        except Exception as err:
            failure = classify(err)
            raise type(failure)(self.scrub.scrub(str(failure)), *_retry(failure)) from None
        self._offline.pop(idempotency_key, None)
        message_id = data.get("message_id") if isinstance(data, dict) else None
        return SendResult(message_id=str(message_id) if message_id is not None else None)

    def _wait(self, key: str) -> float:
        tries = self._offline.pop(key, 0)
        self._offline[key] = tries + 1
        while len(self._offline) > 10_000:
            self._offline.popitem(last=False)
        return OFFLINE_WAITS[min(tries, len(OFFLINE_WAITS) - 1)]

    async def _member_info(self, self_id: str, group_id: str, user_id: str) -> dict:
        conn = self.hub.caller(self_id)
        if conn is None:
            raise ConnectionError("not connected")
        params = {"group_id": wire_id(group_id), "user_id": wire_id(user_id), "no_cache": False}
        wait = min(ROLE_TIMEOUT, self.settings.api_timeout.total_seconds())
        data = await conn.call("get_group_member_info", params, wait)
        return data if isinstance(data, dict) else {}


def _retry(err: Exception) -> tuple[float | None, ...]:
    return (err.retry_after,) if isinstance(err, TemporaryError) else ()
