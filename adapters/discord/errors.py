"""discord.py exceptions → Hearth's :class:`TemporaryError` / :class:`PermanentError`.

discord.py already waits out ordinary 429s (per route and global) and retries 5xx a few
times; what reaches Hearth is what it gave up on:

* ``RateLimited`` (a wait longer than ``max_ratelimit_timeout``) → temporary, ``retry_after``
* ``DiscordServerError``, network errors, timeouts → temporary
* 429 without Discord's headers (a Cloudflare ban of the IP) → temporary, a minute later
* 401 (the token was reset; an operator can fix it) → temporary, a minute later
* ``Forbidden`` (403: missing permission, DMs closed, the target outranks the bot),
  ``NotFound`` and every other 4xx → permanent: recorded and shown by ``hearth stats``
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import discord
from aiohttp import ClientError

from adapters.base import PermanentError, TemporaryError

RETRY_LATER = 60.0
UNKNOWN_MESSAGE, UNKNOWN_INTERACTION, UNKNOWN_WEBHOOK = 10008, 10062, 10015
Scrub = Callable[[str], str]  # bot.logs.SecretFilter(secrets).scrub


def description(err: BaseException, scrub: Scrub) -> str:
    if isinstance(err, discord.HTTPException):
        text = f"{err.status} (code {err.code}): {err.text}"
    else:
        text = f"{type(err).__name__}: {err}"
    return scrub(text)[:400]


def gone(err: BaseException) -> bool:
    """The target no longer exists (a message already deleted, an expired interaction)."""
    return isinstance(err, discord.NotFound) and err.code in (UNKNOWN_MESSAGE, UNKNOWN_INTERACTION, UNKNOWN_WEBHOOK)


def classify(err: BaseException, scrub: Scrub) -> TemporaryError | PermanentError:
    text = description(err, scrub)
    if isinstance(err, discord.RateLimited):
        return TemporaryError(text, retry_after=float(err.retry_after))
    if isinstance(err, discord.DiscordServerError):
        return TemporaryError(text)
    if isinstance(err, discord.Forbidden):
        return PermanentError(f"forbidden: {text}")
    if isinstance(err, discord.HTTPException):
        if err.status == 429:
            return TemporaryError(f"rate limited outside Discord's buckets: {text}", RETRY_LATER)
        if err.status == 401:
            return TemporaryError(f"the bot token was rejected ({text}); check [platforms.discord].token", RETRY_LATER)
        return PermanentError(text)
    if isinstance(err, ClientError | asyncio.TimeoutError | OSError):
        return TemporaryError(text)
    return PermanentError(text)
