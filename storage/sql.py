"""Small dialect-aware SQL helpers shared by the repositories (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def _insert(conn: AsyncConnection, table: Table) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


async def insert_ignore(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, skipping those that collide with a unique key."""
    if rows:
        await conn.execute(_insert(conn, table).on_conflict_do_nothing(), list(rows))


async def upsert(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: dict[str, Any],
) -> None:
    """Insert rows or, on a key collision, apply ``update`` (column -> expression)."""
    if not rows:
        return
    stmt = _insert(conn, table)
    resolved = {col: (expr(stmt.excluded) if callable(expr) else expr) for col, expr in update.items()}
    await conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=resolved), list(rows))
