"""Who administers each chat, from ``getChatAdministrators``, cached with a TTL.

One request per chat per TTL however many events arrive at once (concurrent lookups share
the request). A ``chat_member`` update that promotes or demotes someone drops the chat's
entry, so the next event reads the fresh list. A failed lookup counts as "unknown" for a
short while rather than hammering the API.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from adapters.telegram.errors import Scrubber, description

log = logging.getLogger(__name__)
FAILURE_TTL = 30.0
Fetch = Callable[[int], Awaitable[list]]


class AdminCache:
    def __init__(self, fetch: Fetch, ttl: float, scrub: Scrubber) -> None:
        self._fetch = fetch
        self.ttl = ttl
        self._scrub = scrub
        self._entries: dict[int, tuple[float, frozenset[str] | None]] = {}
        self._inflight: dict[int, asyncio.Future[frozenset[str] | None]] = {}
        self.requests = 0

    def invalidate(self, chat_id: int) -> None:
        self._entries.pop(chat_id, None)

    async def admins(self, chat_id: int) -> frozenset[str] | None:
        """User ids of the chat's administrators and owner; None when Telegram could not say."""
        entry = self._entries.get(chat_id)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        pending = self._inflight.get(chat_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[frozenset[str] | None] = asyncio.get_running_loop().create_future()
        self._inflight[chat_id] = future
        try:
            result = await self._load(chat_id)
            future.set_result(result)
            return result
        finally:
            self._inflight.pop(chat_id, None)
            if not future.done():
                future.cancel()

    async def many(self, chat_ids: Iterable[int]) -> dict[int, frozenset[str] | None]:
        ids = list(dict.fromkeys(chat_ids))
        found = await asyncio.gather(*(self.admins(i) for i in ids))
        return dict(zip(ids, found, strict=True))

    async def _load(self, chat_id: int) -> frozenset[str] | None:
        self.requests += 1
        try:
            members = await self._fetch(chat_id)
        except asyncio.CancelledError:
            raise
        except Exception as err:
            log.warning("could not read the administrators of %s: %s", chat_id, description(err, self._scrub))
            self._entries[chat_id] = (time.monotonic() + FAILURE_TTL, None)
            return None
        ids = frozenset(str(m.user.id) for m in members)
        self._entries[chat_id] = (time.monotonic() + self.ttl, ids)
        return ids
