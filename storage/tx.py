"""The connection a batch of events works through: buffered writes, read-your-writes, a cache.

The engine handles a batch of events in one transaction. Most of what an event changes is
appends (check-ins, ledger rows, processed ids, outbox rows) and bookkeeping upserts; sent
one by one, each costs a round trip (with aiosqlite, several thread hops). :class:`Tx`
queues such writes (:meth:`Tx.add`) and sends them as late as possible, one
``executemany`` per run of rows for the same statement (:mod:`storage.bulk`):

* before any statement run through :meth:`Tx.execute`, so every read sees every earlier
  write (effects are those of running each statement at once, in order);
* at :meth:`Tx.flush`, which the engine calls before it commits.

Rows of one table keep their order. Tables are flushed in the order they were first
written; rows of different tables never depend on each other's order (no triggers), and a
parent row is always written before its children.

``cache`` memoises query results for the batch; repositories keep their entries current as
they write (a member's points total, a last check-in). A write run through
:meth:`Tx.execute`, which the cache cannot see into, clears it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.dml import Insert

from storage.bulk import insert_many

Row = dict[str, Any]


class Tx:
    """Wraps the batch's :class:`AsyncConnection`; campaigns see it as ``ctx.conn``."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.cache: dict[Hashable, Any] = {}
        self._pending: dict[str, list[tuple[Insert, list[Row]]]] = {}
        self.statements = 0  # round trips made (for tests and benchmarks)

    @property
    def dialect(self) -> Dialect:
        return self.conn.dialect

    def add(self, statement: Insert, row: Row) -> None:
        """Queue one row for ``statement`` (an INSERT, upsert or insert-ignore).

        Build each statement once and reuse the object: consecutive rows for the same object
        go in one ``executemany``. Rows for one statement must have the same keys.
        """
        runs = self._pending.setdefault(statement.table.name, [])  # type: ignore[attr-defined]
        if runs and runs[-1][0] is statement:
            runs[-1][1].append(row)
        else:
            runs.append((statement, [row]))

    @property
    def dirty(self) -> bool:
        return bool(self._pending)

    async def flush(self) -> None:
        """Send every queued row, table by table, in order."""
        while self._pending:
            pending, self._pending = self._pending, {}
            for runs in pending.values():
                for statement, rows in runs:
                    self.statements += 1
                    await insert_many(self.conn, statement, rows)

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        """Run a statement now, after the queued writes; a write also clears the cache."""
        await self.flush()
        if not getattr(statement, "is_select", False):
            self.cache.clear()
        self.statements += 1
        return await self.conn.execute(statement, parameters)

    async def scalar(self, statement: Executable, parameters: Any = None) -> Any:
        return (await self.execute(statement, parameters)).scalar()

    async def scalars(self, statement: Executable, parameters: Any = None) -> Any:
        return (await self.execute(statement, parameters)).scalars()


Conn = Tx | AsyncConnection


async def write(conn: Conn, statement: Insert, rows: Sequence[Row]) -> None:
    """Queue ``rows`` on a :class:`Tx`; on a plain connection, insert them now."""
    if isinstance(conn, Tx):
        for row in rows:
            conn.add(statement, row)
    elif rows:
        await conn.execute(statement, list(rows))


def cache_of(conn: Conn) -> dict[Hashable, Any] | None:
    """The batch cache, or None on a plain connection (which caches nothing)."""
    return conn.cache if isinstance(conn, Tx) else None
