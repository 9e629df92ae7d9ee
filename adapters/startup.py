"""Start-up steps that retry while a platform is unreachable (one rule for every adapter)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

START_ATTEMPTS = 5  # 1 + 2 + 4 + 8 s of waiting before a start-up step gives up


async def retried(
    step: Callable[[], Awaitable[T]],
    *,
    fatal: tuple[type[BaseException], ...] = (),
    on_retry: Callable[[Exception, float], None] | None = None,
    attempts: int = START_ATTEMPTS,
) -> T:
    """``await step()`` until it succeeds, waiting 1 s, 2 s, 4 s ... between tries.

    An error in ``fatal`` (e.g. a rejected token: waiting cannot help) propagates at once;
    after the last try its error propagates. ``on_retry(error, delay)`` is told of each retry.
    """
    delay = 1.0
    for attempt in range(attempts):
        try:
            return await step()
        except fatal:
            raise
        except Exception as err:
            if attempt == attempts - 1:
                raise
            if on_retry is not None:
                on_retry(err, delay)
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("attempts must be at least 1")
