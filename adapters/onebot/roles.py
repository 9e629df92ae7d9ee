"""Who is a group owner or admin: from messages' ``sender.role``, else ``get_group_member_info``.

Group messages usually carry the sender's role (best effort, says the spec); that answer is
remembered. When it is missing, one ``get_group_member_info`` per member and TTL answers it
(concurrent lookups share the request). A failed lookup counts as "not admin" for a short
while rather than asking again for every message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)
FAILURE_TTL = 30.0
MAX_ENTRIES = 200_000
ADMIN_ROLES = frozenset({"owner", "admin"})
Fetch = Callable[[str, str, str], Awaitable[dict]]  # (self_id, group_id, user_id) -> member info
Key = tuple[str, str, str]


class RoleCache:
    def __init__(self, fetch: Fetch, ttl: float) -> None:
        self._fetch = fetch
        self.ttl = ttl
        self._entries: dict[Key, tuple[float, bool]] = {}
        self._inflight: dict[Key, asyncio.Future[bool]] = {}
        self.requests = 0

    def remember(self, self_id: str, group_id: str, user_id: str, role: str) -> None:
        now = time.monotonic()
        if len(self._entries) >= MAX_ENTRIES:  # many members over time: forget the expired ones
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
        self._entries[(self_id, group_id, user_id)] = (now + self.ttl, role in ADMIN_ROLES)

    def known(self, self_id: str, group_id: str, user_id: str) -> bool | None:
        entry = self._entries.get((self_id, group_id, user_id))
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    async def is_admin(self, self_id: str, group_id: str, user_id: str) -> bool:
        """Whether the member is the group's owner or an admin (cached)."""
        found = self.known(self_id, group_id, user_id)
        if found is not None:
            return found
        k = (self_id, group_id, user_id)
        pending = self._inflight.get(k)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._inflight[k] = future
        try:
            answer = await self._load(k)
            future.set_result(answer)
            return answer
        finally:
            self._inflight.pop(k, None)
            if not future.done():
                future.cancel()

    async def _load(self, k: Key) -> bool:
        self.requests += 1
        try:
            info = await self._fetch(*k)
        except asyncio.CancelledError:
            raise
        except Exception as err:
            log.warning("could not read the role of %s in group %s: %s", k[2], k[1], type(err).__name__)
            self.remember(*k, "unknown")
            self._entries[k] = (time.monotonic() + FAILURE_TTL, False)
            return False
        role = str((info or {}).get("role") or "member")
        self.remember(*k, role)
        return role in ADMIN_ROLES
