"""Small dialect-aware SQL helpers shared by the repositories (SQLite and PostgreSQL).

The ``*_statement`` builders return reusable statements (build once per dialect, execute
many times, e.g. through :meth:`storage.tx.Tx.add`); the async helpers run them at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from storage.tx import Conn


def _insert(dialect: str, table: Table) -> Any:
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def ignore_statement(dialect: str, table: Table) -> Insert:
    """INSERT that skips rows colliding with a unique key."""
    return _insert(dialect, table).on_conflict_do_nothing()


def upsert_statement(dialect: str, table: Table, keys: Sequence[str], update: dict[str, Any]) -> Insert:
    """INSERT that, on a collision of ``keys``, applies ``update`` (column -> expression, or a
    callable given the ``excluded`` row, e.g. ``lambda ex: ex.name``)."""
    stmt = _insert(dialect, table)
    resolved = {col: (expr(stmt.excluded) if callable(expr) else expr) for col, expr in update.items()}
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=resolved)


async def insert_ignore(conn: Conn, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, skipping those that collide with a unique key."""
    if rows:
        await conn.execute(ignore_statement(conn.dialect.name, table), list(rows))


async def upsert(
    conn: Conn,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: dict[str, Any],
) -> None:
    """Insert rows or, on a key collision, apply ``update`` (column -> expression)."""
    if rows:
        await conn.execute(upsert_statement(conn.dialect.name, table, keys, update), list(rows))
