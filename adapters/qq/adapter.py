"""The official QQ bot adapter: wiring of token, API, store, receiver, webhook or gateway, sender.

Receiving is the signed webhook (default) or the WebSocket gateway, both through
:class:`.receive.Receiver`; sending is :class:`.send.Performer`. The secret lives in the
settings' ``SecretStr``, the signer and the token request only; nothing here prints it.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import EventSink, Feature, SendResult
from adapters.qq.api import QQApi
from adapters.qq.decode import PLATFORM
from adapters.qq.errors import QQApiError, Scrubber
from adapters.qq.gateway import Gateway
from adapters.qq.receive import Receiver
from adapters.qq.send import Performer
from adapters.qq.settings import QQSettings
from adapters.qq.sign import Signer
from adapters.qq.store import QQStore
from adapters.qq.token import AccessToken
from adapters.qq.webhook import WebhookServer
from bot import actions as act
from bot.clock import Clock
from bot.ratelimit import RateLimits

log = logging.getLogger(__name__)
CALLBACK_LIMIT = (1000.0, 1000)  # AnswerButton costs no API call


def rate_limits() -> RateLimits:
    """The adapter's own pacing: the platform publishes no figures, and a group gets at most
    5 passive replies per message anyway; bursts of 5, then one message every 2 seconds."""

    def per_target(target: str) -> tuple[float, int] | None:
        return CALLBACK_LIMIT if target.endswith(":callback") or target == "callback" else None

    return RateLimits(per_second=20.0, burst=20, per_chat_per_second=0.5, per_chat_burst=5, per_target=per_target)


class QQAdapter:
    platform = PLATFORM

    def __init__(self, settings: QQSettings, db: AsyncEngine, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.limits = rate_limits()
        features = {Feature.DIRECT_MESSAGES, Feature.REPLIES}
        if settings.keyboard:
            features.add(Feature.BUTTONS)
        self.features = frozenset(features)
        self.scrub = Scrubber(settings.secrets())
        self.signer = Signer(settings.secret.get_secret_value())
        self.store = QQStore(db, settings.app_id)
        self.session: aiohttp.ClientSession | None = None
        self.token: AccessToken | None = None
        self.api: QQApi | None = None
        self.performer: Performer | None = None
        self.receiver: Receiver | None = None
        self.webhook: WebhookServer | None = None
        self.gateway: Gateway | None = None
        self._refresher: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"QQAdapter(app_id={self.settings.app_id}, transport={self.settings.transport})"

    def _connect(self) -> None:
        if self.session is not None:
            return
        s = self.settings
        self.session = aiohttp.ClientSession()
        self.token = AccessToken(self.session, s.token_url, s.app_id, s.secret.get_secret_value(), self.scrub)
        self.api = QQApi(self.session, s.api_base, s.app_id, self.token)
        self.performer = Performer(self.api, self.store, s, self.clock, self.scrub)

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        self._connect()
        assert self.performer is not None and self.token is not None and self.api is not None
        s = self.settings
        await self._check_credentials()
        self.receiver = Receiver(s.app_id, sink, self.store, self.clock, self.performer.acknowledge, self.scrub)
        self._refresher = asyncio.create_task(self.token.keep_fresh(), name="qq-token-refresh")
        if s.transport == "webhook":
            self.webhook = WebhookServer(self.signer, self.receiver, s.host, s.port, s.path, self.scrub)
            await self.webhook.start()
        else:
            assert self.session is not None
            self.gateway = Gateway(self.api, self.session, self.receiver, self.store, s, self.clock, self.scrub)
            try:
                await self.gateway.start()
            except BaseException:
                await self.stop()
                raise
        log.info("QQ bot %s is receiving by %s", s.app_id, s.transport)

    async def _check_credentials(self) -> None:
        """Fetch the first token: a refused app_id/secret stops the start with a clear error;
        an unreachable platform only warns (sends retry, the token is fetched on demand)."""
        assert self.token is not None
        try:
            await self.token.get()
        except QQApiError as err:
            if err.status == 401:
                await self.stop()
                raise RuntimeError(
                    f"QQ refused app_id {self.settings.app_id} with this secret ({self.scrub(err.message)}); "
                    "check [platforms.qq].app_id and secret"
                ) from None
            log.warning("cannot fetch a QQ access token yet: %s", self.scrub(err))
        except Exception as err:
            log.warning("cannot reach the QQ token endpoint yet: %s", self.scrub(err))

    async def stop(self) -> None:
        if self.webhook is not None:
            await self.webhook.stop()
            self.webhook = None
        if self.gateway is not None:
            gateway, self.gateway = self.gateway, None
            await gateway.stop()
        if self._refresher is not None:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)
            self._refresher = None
        if self.receiver is not None:
            await self.receiver.drain()
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def perform(self, action: act.Action, idempotency_key: str) -> SendResult:
        self._connect()
        assert self.performer is not None
        return await self.performer.perform(action, idempotency_key)
