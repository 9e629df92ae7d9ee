"""What the Telegram adapter keeps in the database, besides the engine's own tables.

* ``chats.active``: false while the bot is out of a chat (``my_chat_member`` left/kicked, or
  a 403 "bot was kicked"); nothing is sent there and no schedule fires there until it is back.
* ``adapter_state`` rows under ``telegram:``: poll id → chat (poll answers carry no chat),
  per-member invite links both ways, long button payloads, and group → supergroup moves.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.adapter_state import StateCache
from storage.models import AdapterState, Chat
from storage.rekey import rekey_chat
from storage.sql import upsert

state_t = AdapterState.__table__
chats_t = Chat.__table__
PREFIX = "telegram:"


class TelegramStore:
    def __init__(self, db: AsyncEngine) -> None:
        self.db = db
        self.inactive: set[str] = set()
        self.migrated: dict[str, str] = {}
        self._state = StateCache(db, "")  # keys carry the telegram: prefix themselves

    async def load(self) -> None:
        """Read the chats the bot is out of and the known migrations."""
        async with self.db.connect() as conn:
            rows = await conn.execute(
                select(chats_t.c.key).where(chats_t.c.platform == "telegram", chats_t.c.active.is_(False))
            )
            self.inactive = {r[0] for r in rows}
            rows = await conn.execute(
                select(state_t.c.key, state_t.c.value).where(state_t.c.key.like(f"{PREFIX}migrated:%"))
            )
            self.migrated = {k.removeprefix(f"{PREFIX}migrated:"): v for k, v in rows}

    # --- chats ------------------------------------------------------------------------------------

    def redirect(self, chat: str) -> str:
        """Where a chat's messages go now (a group upgraded to a supergroup has a new id)."""
        seen = {chat}
        while chat in self.migrated and self.migrated[chat] not in seen:
            chat = self.migrated[chat]
            seen.add(chat)
        return chat

    async def set_active(self, chat: str, active: bool, at: datetime, title: str = "") -> None:
        row = dict(key=chat, platform="telegram", title=title, active=active, created_at=at)
        values: dict[str, object] = {"active": active}
        if title:
            values["title"] = title
        async with self.db.begin() as conn:
            await upsert(conn, chats_t, [row], keys=["key"], update=values)
        (self.inactive.discard if active else self.inactive.add)(chat)

    async def migrate(self, old: str, new: str) -> dict[str, int]:
        """Move everything of ``old`` to ``new`` in one transaction; safe to repeat."""
        async with self.db.begin() as conn:
            moved = await rekey_chat(conn, old, new)
            await self._move_state(conn, old, new)
            await upsert(conn, state_t, [dict(key=f"{PREFIX}migrated:{old}", value=new)], ["key"], {"value": new})
        self.migrated[old] = new
        self.inactive.discard(old)
        self._state.forget()
        return moved

    async def _move_state(self, conn: AsyncConnection, old: str, new: str) -> None:
        c = state_t.c
        await conn.execute(update(state_t).where(c.key.like(f"{PREFIX}poll:%"), c.value == old).values(value=new))
        rows = (await conn.execute(select(c.key, c.value).where(c.key.like(f"{PREFIX}link:{old}:%")))).all()
        for key, value in rows:
            moved = f"{PREFIX}link:{new}:" + key.removeprefix(f"{PREFIX}link:{old}:")
            await conn.execute(delete(state_t).where(c.key == key))
            await upsert(conn, state_t, [dict(key=moved, value=value)], ["key"], {"value": value})

    # --- small key/value facts ------------------------------------------------------------------

    async def _get(self, key: str) -> str | None:
        return await self._state.get(key)

    async def _put(self, items: dict[str, str]) -> None:
        await self._state.put(items)

    async def remember_poll(self, poll_id: str, chat: str) -> None:
        await self._put({f"{PREFIX}poll:{poll_id}": chat})

    async def poll_chat(self, poll_id: str) -> str | None:
        return await self._get(f"{PREFIX}poll:{poll_id}")

    async def remember_link(self, chat: str, member: str, url: str) -> None:
        await self._put({f"{PREFIX}link:{chat}:{member}": url, f"{PREFIX}invite:{url}": member})

    async def link_for(self, chat: str, member: str) -> str | None:
        return await self._get(f"{PREFIX}link:{chat}:{member}")

    async def link_owner(self, url: str) -> str | None:
        return await self._get(f"{PREFIX}invite:{url}")

    async def remember_callback_data(self, items: dict[str, str]) -> None:
        if items:
            await self._put({f"{PREFIX}cb:{token}": data for token, data in items.items()})

    async def callback_data(self, token: str) -> str | None:
        return await self._get(f"{PREFIX}cb:{token}")
