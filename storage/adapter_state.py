"""Small durable key/value facts an adapter keeps in ``adapter_state``, with a bounded cache.

Keys are namespaced by the adapter's prefix (``discord:``). Values are written in their own
short transaction and read through an LRU cache, so a hot lookup costs no query.
"""

from __future__ import annotations

from collections import OrderedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import AdapterState
from storage.sql import upsert

state_t = AdapterState.__table__


class StateCache:
    def __init__(self, db: AsyncEngine, prefix: str, size: int = 10_000) -> None:
        self.db = db
        self.prefix = prefix
        self.size = size
        self._cache: OrderedDict[str, str] = OrderedDict()

    async def get(self, key: str) -> str | None:
        key = self.prefix + key
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        async with self.db.connect() as conn:
            value = (await conn.execute(select(state_t.c.value).where(state_t.c.key == key))).scalar_one_or_none()
        if value is not None:
            self._remember(key, value)
        return value

    async def put(self, items: dict[str, str]) -> None:
        if not items:
            return
        rows = [dict(key=self.prefix + k, value=v) for k, v in items.items()]
        async with self.db.begin() as conn:
            await upsert(conn, state_t, rows, keys=["key"], update={"value": lambda ex: ex.value})
        for row in rows:
            self._remember(row["key"], row["value"])

    def forget(self) -> None:
        """Drop the cache (after the rows changed behind its back)."""
        self._cache.clear()

    def _remember(self, key: str, value: str) -> None:
        self._cache[key] = value
        self._cache.move_to_end(key)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
