"""QQ API failures → Hearth's :class:`TemporaryError` / :class:`PermanentError`, secret scrubbed.

* HTTP 429, 5xx, the rate-limit codes and network errors → temporary (``Retry-After`` honoured)
* a rejected token after one refresh → temporary (an operator can fix the secret)
* permission codes (no proactive permission, bot not in the group, ...) and any other 4xx →
  permanent, with the platform's own words and the code
* the duplicate-``msg_seq`` code: the message already went out (a retry after a crash)
"""

from __future__ import annotations

import asyncio

from aiohttp import ClientError

from adapters.base import PermanentError, TemporaryError
from bot.logs import Scrubber  # the bot secret, and each access token once fetched

NO_PROACTIVE = 40034102  # 主动消息失败, 无权限
DUPLICATE_SEQ = 40054005  # 消息被去重 (this msg_id + msg_seq was sent already)
RATE_LIMITED = frozenset({22009, 20028, 304045, 304046})  # 消息发送超频 and friends
PERMISSION = frozenset({NO_PROACTIVE, 11255, 304003, 304004, 40034103})
UNAUTHORIZED_RETRY = 60.0


class QQApiError(Exception):
    """An answer of the QQ API that is not a success."""

    def __init__(self, status: int, code: int | None, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}, code {code}: {message}" if code is not None else f"HTTP {status}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


def classify(err: BaseException, scrub: Scrubber) -> TemporaryError | PermanentError:
    """The Hearth error to raise for ``err`` (never carrying a secret)."""
    if isinstance(err, QQApiError):
        text = scrub(str(err))[:400]
        if err.status == 429 or err.code in RATE_LIMITED:
            return TemporaryError(f"QQ rate limit: {text}", err.retry_after)
        if err.status == 401:
            return TemporaryError(f"QQ rejected the access token ({text}); check app_id and secret", UNAUTHORIZED_RETRY)
        if err.code == NO_PROACTIVE:
            return PermanentError(f"the group does not allow proactive messages ({text})")
        if err.code in PERMISSION:
            return PermanentError(f"no permission on QQ ({text})")
        if err.status >= 500:
            return TemporaryError(text, err.retry_after)
        return PermanentError(text)
    text = scrub(f"{type(err).__name__}: {err}")[:400]
    if isinstance(err, ClientError | asyncio.TimeoutError | OSError):
        return TemporaryError(text)
    return PermanentError(text)
