"""The Telegram adapter: wiring of aiogram's Bot with Hearth's receive and send paths.

Receiving is long polling (default) or a webhook (:mod:`.polling`, :mod:`.webhook`), both
through :class:`.receive.Receiver`; sending is :class:`.send.Performer`. The token lives in
aiogram's ``Bot`` and in the settings' ``SecretStr`` only; nothing here prints it.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramUnauthorizedError
from aiogram.methods import DeleteWebhook, SetWebhook, TelegramMethod
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import EventSink, Feature, SendResult
from adapters.startup import retried
from adapters.telegram.admins import AdminCache
from adapters.telegram.callbacks import CallbackAnswers
from adapters.telegram.decode import PLATFORM, Me
from adapters.telegram.errors import Scrubber, description
from adapters.telegram.polling import Poller
from adapters.telegram.receive import Receiver
from adapters.telegram.send import Performer, private_chat
from adapters.telegram.settings import ALLOWED_UPDATES, TelegramSettings
from adapters.telegram.store import TelegramStore
from adapters.telegram.webhook import WebhookServer
from bot import actions as act
from bot.clock import Clock
from bot.ratelimit import RateLimits

log = logging.getLogger(__name__)
ADMIN_TIMEOUT = 10  # seconds: an admin lookup delays the batch it is for, so it may not hang
CALLBACK_LIMIT = (1000.0, 1000)  # answering a press is not a message: no per-chat pacing


def rate_limits(s: TelegramSettings) -> RateLimits:
    """Token buckets that never exceed the configured figures in any window.

    A bucket of capacity ``b`` refilling at ``r``/s lets ``b + r·T`` through in a window of
    ``T`` seconds, so 20/min per group is capacity 3 refilling 17/min, and 30/s overall is
    capacity 5 refilling 25/s. Private chats get Telegram's "about 1/s, short bursts pass".
    """
    per_minute = s.group_messages_per_minute
    group_burst = max(1, min(3, int(per_minute // 4)))
    group_rate = (per_minute - group_burst) / 60 if per_minute > group_burst else per_minute / 60
    overall_burst = max(1, int(s.messages_per_second / 6))
    private = (s.private_messages_per_second, max(1, min(3, int(s.private_messages_per_second * 3))))

    def per_target(target: str) -> tuple[float, int] | None:
        if target.endswith(":callback"):
            return CALLBACK_LIMIT
        return private if private_chat(target) else None

    return RateLimits(
        per_second=s.messages_per_second - overall_burst if s.messages_per_second > overall_burst else 1.0,
        burst=overall_burst,
        per_chat_per_second=group_rate,
        per_chat_burst=group_burst,
        per_target=per_target,
    )


class TelegramAdapter:
    platform = PLATFORM
    features = frozenset(
        {
            Feature.BUTTONS,
            Feature.DIRECT_MESSAGES,
            Feature.INVITE_LINKS,
            Feature.JOIN_ATTRIBUTION,
            Feature.POLLS,
            Feature.DELETE,
            Feature.MUTE,
            Feature.KICK,
            Feature.REPLIES,
            Feature.REACTIONS,
        }
    )

    def __init__(self, settings: TelegramSettings, db: AsyncEngine, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.limits = rate_limits(settings)
        self.scrub = Scrubber(settings.secrets())
        self.store = TelegramStore(db)
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.api_url))
        self.bot = Bot(token=settings.token.get_secret_value(), session=session)
        self.callbacks = CallbackAnswers(self._answer_empty, settings.callback_answer_after.total_seconds())
        self.admins = AdminCache(self._fetch_admins, settings.admin_cache_ttl.total_seconds(), self.scrub)
        self.performer = Performer(self.bot, self.store, self.callbacks, self.scrub, clock, self.store.migrate)
        self.me: Me | None = None
        self.receiver: Receiver | None = None
        self.poller: Poller | None = None
        self.webhook: WebhookServer | None = None
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"TelegramAdapter(bot_id={self.settings.bot_id}, mode={self.settings.mode})"

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        await self.store.load()
        self.me = await self._whoami()
        self.receiver = Receiver(self.me, sink, self.store, self.admins, self.callbacks, self.clock)
        self.callbacks.start()
        s = self.settings
        if s.mode == "polling":
            await self._setup(DeleteWebhook(drop_pending_updates=False), "remove the webhook")
            self.poller = Poller(self.bot, self.receiver, s.poll_timeout, self.scrub)
            self._task = asyncio.create_task(self.poller.run(), name="telegram-polling")
        else:
            assert s.secret_token is not None and s.webhook_url is not None
            secret = s.secret_token.get_secret_value()
            self.webhook = WebhookServer(self.bot, self.receiver, secret, s.host, s.port, s.webhook_path, self.scrub)
            await self.webhook.start()
            hook = SetWebhook(
                url=s.webhook_url,
                secret_token=secret,
                allowed_updates=list(ALLOWED_UPDATES),
                drop_pending_updates=False,
            )
            await self._setup(hook, "register the webhook")
        log.info("Telegram bot @%s (%s) is receiving by %s", self.me.username, self.me.id, s.mode)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.webhook is not None:
            await self.webhook.stop()
        await self.callbacks.stop()
        await self.bot.session.close()

    async def perform(self, action: act.Action, idempotency_key: str) -> SendResult:
        return await self.performer.perform(action, idempotency_key)

    # --- helpers ----------------------------------------------------------------------------------

    async def _whoami(self) -> Me:
        """``getMe``, retried while Telegram is unreachable; a rejected token stops the start."""

        def waiting(err: Exception, delay: float) -> None:
            log.warning("cannot reach Telegram yet (%s); retrying in %.0fs", description(err, self.scrub), delay)

        try:
            user = await retried(self.bot.get_me, fatal=(TelegramUnauthorizedError,), on_retry=waiting)
        except TelegramUnauthorizedError:
            raise RuntimeError("Telegram rejected the bot token; check [platforms.telegram].token") from None
        except Exception as err:
            raise RuntimeError(f"cannot reach Telegram: {description(err, self.scrub)}") from None
        return Me(id=str(user.id), username=user.username or "")

    async def _setup(self, method: TelegramMethod, what: str) -> None:
        try:
            await retried(lambda: self.bot(method))
        except Exception as err:
            log.error("could not %s: %s", what, description(err, self.scrub))

    async def _fetch_admins(self, chat_id: int) -> list:
        return list(await self.bot.get_chat_administrators(chat_id=chat_id, request_timeout=ADMIN_TIMEOUT))

    async def _answer_empty(self, callback_id: str) -> None:
        await self.performer.answer_empty(callback_id)
