"""What a platform lets the bot do in one chat, as the platform last said (e.g. a QQ group owner
allowing or refusing proactive messages), for ``/stats``: platform-neutral.

Kept in ``adapter_state`` as ``permission:<chat key>:<name>`` = ``allowed`` | ``refused``; an
adapter records them (in its own transaction), ``/stats`` lists a chat's without knowing platforms.
"""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AdapterState
from storage.sql import upsert
from storage.tx import Conn

state_t = AdapterState.__table__
PREFIX = "permission:"


def _key(chat_key: str, name: str) -> str:
    return f"{PREFIX}{chat_key}:{name}"


async def record(conn: Conn, chat_key: str, name: str, allowed: bool) -> None:
    row = {"key": _key(chat_key, name), "value": "allowed" if allowed else "refused"}
    await upsert(conn, state_t, [row], ["key"], {"value": row["value"]})


async def of_chat(conn: Conn, chat_key: str) -> list[tuple[str, bool]]:
    """``(name, allowed)`` of every permission recorded for the chat, by name."""
    prefix = f"{PREFIX}{chat_key}:"
    rows = await conn.execute(
        select(state_t.c.key, state_t.c.value).where(state_t.c.key.like(prefix.replace("%", r"\%") + "%", escape="\\"))
    )
    found = [(k[len(prefix) :], v == "allowed") for k, v in rows if k.startswith(prefix)]
    return sorted(found)
