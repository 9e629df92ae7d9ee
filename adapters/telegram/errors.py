"""aiogram exceptions → Hearth's :class:`TemporaryError` / :class:`PermanentError`, token scrubbed.

* ``TelegramRetryAfter`` → temporary, ``retry_after`` seconds exactly as Telegram said
* network errors, timeouts, 5xx, a rejected token (an operator can fix it) → temporary
* forbidden (bot kicked / blocked / never started), chat not found, any other 4xx → permanent
* a successful answer aiogram cannot parse → permanent (the call took effect; a retry would repeat it)

aiogram builds request URLs as ``.../bot<token>/<method>`` and some transport errors quote
the URL, so every message is scrubbed before it can reach a log, the outbox or ``hearth stats``.
"""

from __future__ import annotations

import asyncio

from aiogram.exceptions import (
    AiogramError,
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiohttp import ClientError

from adapters.base import PermanentError, TemporaryError
from bot.logs import Scrubber

UNAUTHORIZED_RETRY = 60.0
_GONE = ("kicked", "not a member", "chat not found", "deactivated", "blocked by the user", "was deleted")
_ALREADY_DONE = ("message to delete not found", "message can't be deleted", "message is not modified")
_TOO_OLD = ("query is too old", "query id is invalid")


def description(err: BaseException, scrub: Scrubber) -> str:
    """What went wrong, short and safe to log."""
    if isinstance(err, TelegramAPIError):
        text = f"{err.method.__api_method__}: {err.message}" if err.method is not None else err.message
    else:
        text = f"{type(err).__name__}: {err}"
    return scrub(text)[:400]


def chat_is_gone(err: BaseException) -> bool:
    """The bot can no longer write to that chat (kicked, left, chat deleted or upgraded)."""
    if not isinstance(err, TelegramForbiddenError | TelegramBadRequest | TelegramNotFound):
        return False
    message = err.message.lower()
    return any(mark in message for mark in _GONE)


def already_done(err: BaseException) -> bool:
    """A delete of something already gone, or an edit to the same text: the goal is met."""
    return isinstance(err, TelegramBadRequest) and any(m in err.message.lower() for m in _ALREADY_DONE)


def callback_expired(err: BaseException) -> bool:
    return isinstance(err, TelegramBadRequest) and any(m in err.message.lower() for m in _TOO_OLD)


def classify(err: BaseException, scrub: Scrubber) -> TemporaryError | PermanentError:
    """The Hearth error to raise for ``err`` (never carrying the token)."""
    text = description(err, scrub)
    if isinstance(err, TelegramRetryAfter):
        return TemporaryError(text, retry_after=float(err.retry_after))
    if isinstance(err, TelegramEntityTooLarge):
        return PermanentError(text)  # a TelegramNetworkError subclass, but retrying cannot help
    if isinstance(err, ClientDecodeError) and isinstance(err.data, dict) and err.data.get("ok") is True:
        # Telegram did it, but aiogram could not read the answer: retrying would do it twice
        return PermanentError(f"done, but the answer could not be read (aiogram/API version mismatch?): {text}")
    if isinstance(err, TelegramNetworkError | TelegramServerError | ClientDecodeError):
        return TemporaryError(text)
    if isinstance(err, TelegramUnauthorizedError):
        return TemporaryError(
            f"the bot token was rejected ({text}); check [platforms.telegram].token", UNAUTHORIZED_RETRY
        )
    if isinstance(err, TelegramAPIError | AiogramError):
        return PermanentError(text)
    if isinstance(err, ClientError | asyncio.TimeoutError | OSError):
        return TemporaryError(text)
    return PermanentError(text)
