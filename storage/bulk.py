"""Many rows for one INSERT (or upsert), with the statement compiled once.

``conn.execute(statement, rows)`` makes SQLAlchemy rebuild every row's parameters through
its general machinery (defaults, escaping, name lookups), which costs more than the database
spends storing the row. For the engine's batch writes (:class:`storage.tx.Tx`) the statement
is compiled once per dialect and set of row keys; each row then becomes a tuple through
the columns' own bind processors (the same type conversions SQLAlchemy applies) and all
of them go to the driver in one ``executemany``.

Statements this shortcut cannot reproduce exactly (Python-side defaults for missing
columns, callables, a dialect with named parameters, RETURNING) take SQLAlchemy's path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Prepared:
    """An INSERT compiled for one dialect and key set: its SQL and how to fill the parameters.

    The row's values are picked in parameter order (``pick``), then come the statement's own
    constants (``constants``, e.g. an upsert's ``SET messages = messages + 1``); ``processors``
    convert the values of the positions that need it, as SQLAlchemy would.
    """

    sql: str
    pick: Callable[[Row], tuple[Any, ...]]
    constants: tuple[Any, ...]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]

    def parameters(self, rows: Sequence[Row]) -> list[tuple[Any, ...]]:
        pick, constants, processors = self.pick, self.constants, self.processors
        if not processors:
            return [pick(row) + constants for row in rows]
        out = []
        for row in rows:
            values = [*pick(row), *constants]
            for i, process in processors:
                values[i] = process(values[i])
            out.append(tuple(values))
        return out


@lru_cache(maxsize=256)
def prepare(statement: Insert, dialect: Dialect, keys: tuple[str, ...]) -> Prepared | None:
    """``statement`` compiled for rows with exactly ``keys``; None when it needs SQLAlchemy."""
    compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
    if (
        not compiled.positional
        or compiled.positiontup is None
        or compiled.insert_prefetch
        or compiled.returning
        or compiled.escaped_bind_names
    ):
        return None
    keyed: list[str] = []
    constants: list[Any] = []
    processors: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(compiled.positiontup):
        bind = compiled.binds[name]
        if bind.callable is not None or bind.expanding:
            return None
        if bind.key in keys and not constants:
            keyed.append(bind.key)
        elif bind.key not in keys and not bind.required:
            constants.append(bind.value)
        else:  # a row value after a constant, or a value the rows lack
            return None
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors.append((i, process))
    if not keyed:
        return None
    pick = itemgetter(*keyed) if len(keyed) > 1 else (lambda row, key=keyed[0]: (row[key],))
    return Prepared(compiled.string, pick, tuple(constants), tuple(processors))


async def insert_many(conn: AsyncConnection, statement: Insert, rows: Sequence[Row]) -> None:
    """Insert ``rows`` (all with the same keys) with one ``executemany``."""
    first = rows[0].keys()
    prepared = prepare(statement, conn.dialect, tuple(first))
    if prepared is None or any(row.keys() != first for row in rows):
        await conn.execute(statement, list(rows))
    else:
        await conn.exec_driver_sql(prepared.sql, prepared.parameters(rows))
