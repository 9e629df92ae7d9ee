"""Long polling with confirm-after-commit.

``getUpdates(offset)`` confirms every update below ``offset``. The next offset is asked for
only after the previous batch is committed, so a crash at any point re-reads the unconfirmed
batch (Telegram keeps them up to 24 h) and the engine's dedup makes the re-read harmless;
no offset needs storing. ``allowed_updates`` is always sent explicitly: Telegram remembers
the last list, and its default leaves out ``chat_member`` and reactions.

Updates are fetched as JSON and parsed one by one, so a single update aiogram cannot parse
is skipped (and confirmed) instead of blocking the queue forever.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramConflictError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import GetUpdates
from aiogram.types import Update
from pydantic import ValidationError

from adapters.telegram.errors import Scrubber, description
from adapters.telegram.fast import LightUpdate, light_update
from adapters.telegram.receive import Receiver
from adapters.telegram.settings import ALLOWED_UPDATES

log = logging.getLogger(__name__)
BATCH = 100
BACKOFF_START, BACKOFF_MAX = 1.0, 30.0


class GetRawUpdates(GetUpdates):
    """``getUpdates`` answered as plain JSON objects (parsed one by one by the poller)."""

    __returning__ = list[dict[str, Any]]


def parse_updates(bot: Bot, raw: list[dict[str, Any]]) -> tuple[list[Update | LightUpdate], int | None]:
    """Parsed updates and the highest ``update_id`` seen (unparsable ones included).

    Plain text messages in groups take the fast path (:mod:`adapters.telegram.fast`)."""
    parsed: list[Update | LightUpdate] = []
    highest: int | None = None
    for item in raw:
        uid = item.get("update_id")
        if isinstance(uid, int):
            highest = uid if highest is None else max(highest, uid)
        light = light_update(item)
        if light is not None:
            parsed.append(light)
            continue
        try:
            parsed.append(Update.model_validate(item, context={"bot": bot}))
        except ValidationError as err:
            log.warning("skipped update %s that aiogram could not parse: %s", uid, str(err).splitlines()[0])
    return parsed, highest


class Poller:
    def __init__(self, bot: Bot, receiver: Receiver, timeout: int, scrub: Scrubber) -> None:
        self.bot = bot
        self.receiver = receiver
        self.timeout = timeout
        self.scrub = scrub
        self.offset: int | None = None
        self.batches = 0

    async def run(self) -> None:
        """Poll until cancelled; every failure is logged and retried with back-off."""
        backoff = BACKOFF_START
        while True:
            try:
                await self.poll_once()
                backoff = BACKOFF_START
            except asyncio.CancelledError:
                raise
            except TelegramRetryAfter as err:
                log.warning("getUpdates: Telegram asks to wait %ss", err.retry_after)
                await asyncio.sleep(err.retry_after)
            except TelegramConflictError as err:
                log.error(
                    "%s (another instance polling this token, or a webhook is set?)", description(err, self.scrub)
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
            except TelegramUnauthorizedError as err:
                log.error("the bot token was rejected: %s", description(err, self.scrub))
                await asyncio.sleep(BACKOFF_MAX)
            except Exception as err:
                log.warning("polling failed, retrying in %.0fs: %s", backoff, description(err, self.scrub))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)

    async def poll_once(self) -> int:
        """One getUpdates round: fetch, commit, then move the offset. Returns updates handled."""
        method = GetRawUpdates(
            offset=self.offset, limit=BATCH, timeout=self.timeout, allowed_updates=list(ALLOWED_UPDATES)
        )
        raw = await self.bot(method, request_timeout=self.timeout + 15)
        if not raw:
            return 0
        updates, highest = parse_updates(self.bot, raw)
        if updates:
            await self.receiver.handle(updates)  # returns after commit; raises if it could not
        if highest is not None:
            self.offset = highest + 1  # confirmed by the next getUpdates call
        self.batches += 1
        return len(updates)
