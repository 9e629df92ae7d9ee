"""The sandbox platform's own state: its chat log and invite codes, kept in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import AdapterState, SandboxMessage
from storage.sql import insert_ignore

log_t = SandboxMessage.__table__
state_t = AdapterState.__table__


def as_dict(row: Any) -> dict[str, Any]:
    return {
        "op": "message",
        "id": row.id,
        "chat": row.chat_key,
        "sender": row.sender,
        "name": row.sender_name,
        "text": row.text,
        "buttons": row.buttons or [],
        "at": row.at.isoformat(),
        "deleted": row.deleted,
        "reaction": None,
    }


def _reaction_key(message_id: int) -> str:
    return f"sandbox:reaction:{message_id}"


class SandboxStore:
    def __init__(self, db: AsyncEngine) -> None:
        self.db = db

    async def append(
        self,
        chat: str,
        sender: str,
        name: str,
        text: str,
        at: datetime,
        buttons: list | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[dict, bool]:
        """Append a line; with an idempotency key seen before, return the existing line, not new."""
        async with self.db.begin() as conn:
            if idempotency_key is not None:
                found = (await conn.execute(select(log_t).where(log_t.c.idempotency_key == idempotency_key))).first()
                if found is not None:
                    return as_dict(found), False
            result = await conn.execute(
                insert(log_t).values(
                    chat_key=chat,
                    sender=sender,
                    sender_name=name,
                    text=text,
                    buttons=buttons or [],
                    at=at,
                    idempotency_key=idempotency_key,
                    deleted=False,
                )
            )
            row_id = result.inserted_primary_key[0]
            row = (await conn.execute(select(log_t).where(log_t.c.id == row_id))).one()
            return as_dict(row), True

    async def delete(self, message_id: int) -> bool:
        async with self.db.begin() as conn:
            result = await conn.execute(update(log_t).where(log_t.c.id == message_id).values(deleted=True))
            return bool(result.rowcount)

    async def history(self, chat: str, limit: int = 200) -> list[dict]:
        async with self.db.connect() as conn:
            q = (
                select(log_t)
                .where(log_t.c.chat_key == chat, log_t.c.deleted.is_(False))
                .order_by(log_t.c.id.desc())
                .limit(limit)
            )
            rows = (await conn.execute(q)).all()
            lines = [as_dict(r) for r in reversed(rows)]
            keys = {_reaction_key(line["id"]): line for line in lines}
            if keys:
                found = await conn.execute(select(state_t.c.key, state_t.c.value).where(state_t.c.key.in_(keys)))
                for key, emoji in found:
                    keys[key]["reaction"] = emoji
        return lines

    async def react(self, chat: str, message_id: int, emoji: str) -> bool:
        """Set the bot's reaction on a message of ``chat`` (replacing its earlier one); False if no such message."""
        async with self.db.begin() as conn:
            q = select(log_t.c.id).where(log_t.c.id == message_id, log_t.c.chat_key == chat, log_t.c.deleted.is_(False))
            if (await conn.execute(q)).first() is None:
                return False
            key = _reaction_key(message_id)
            await conn.execute(delete(state_t).where(state_t.c.key == key))
            await conn.execute(insert(state_t).values(key=key, value=emoji))
        return True

    async def save_invite(self, code: str, creator: str) -> None:
        async with self.db.begin() as conn:
            await insert_ignore(conn, state_t, [dict(key=f"sandbox:invite:{code}", value=creator)])

    async def invite_creator(self, code: str) -> str | None:
        async with self.db.connect() as conn:
            q = select(state_t.c.value).where(state_t.c.key == f"sandbox:invite:{code}")
            return (await conn.execute(q)).scalar_one_or_none()
