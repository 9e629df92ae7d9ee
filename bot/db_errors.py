"""Which failures are the database's passing trouble (retry the event) rather than a bug.

The engine records an event whose handling failed as processed-with-error, so one bad event
never blocks the ones behind it. That is wrong when the *database* failed for a moment (a
locked SQLite file, a dropped or refused PostgreSQL connection, a deadlock or serialization
failure, the server restarting): the event did nothing wrong, so the engine re-raises, the
adapter does not acknowledge, and the platform (or the scheduler's next round) delivers it
again. See docs/correctness.md.
"""

from __future__ import annotations

import socket
import sqlite3
from typing import Any

from sqlalchemy import exc

# PostgreSQL SQLSTATEs (classes and codes) that heal by themselves
_PG_TRANSIENT_CLASSES = ("08", "53", "57P")  # connection, insufficient resources, operator intervention
_PG_TRANSIENT_CODES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock not available
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "disk i/o error", "unable to open database")


def is_transient(err: BaseException) -> bool:
    """True when ``err`` (or what caused it) is a database failure that a retry may heal."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [err]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if _transient_one(e):
            return True
        todo += [e.__cause__, e.__context__, getattr(e, "orig", None)]
    return False


def _transient_one(e: BaseException) -> bool:
    if isinstance(e, exc.DBAPIError) and e.connection_invalidated:
        return True
    if isinstance(e, exc.TimeoutError | exc.InterfaceError | exc.DisconnectionError):
        return True  # the pool gave no connection in time; the connection is gone
    if isinstance(e, ConnectionError | TimeoutError | socket.gaierror):
        return True  # the database server refused or dropped the connection
    if isinstance(e, sqlite3.OperationalError):
        return any(s in str(e).lower() for s in _SQLITE_TRANSIENT)
    state = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
    if isinstance(state, str):
        return state in _PG_TRANSIENT_CODES or state.startswith(_PG_TRANSIENT_CLASSES)
    return type(e).__module__.startswith("asyncpg") and type(e).__name__ in (
        "InterfaceError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "TooManyConnectionsError",
        "CannotConnectNowError",
    )


def unusable(url: Any, err: BaseException) -> str:
    """One line for an operator: which database (password hidden) and the driver's own words."""
    inner = getattr(err, "orig", None) or err
    text = str(inner).strip()
    where = url.render_as_string(hide_password=True) if hasattr(url, "render_as_string") else str(url)
    return f"cannot use the database {where}: {text.splitlines()[0] if text else type(inner).__name__}"
