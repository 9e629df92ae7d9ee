"""Member, chat and membership bookkeeping done for every event, before any campaign runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.sql.dml import Insert

from bot.events import Event, EventKind
from storage.models import Chat, Member, Membership
from storage.sql import ignore_statement, upsert_statement
from storage.tx import Conn, write

chats_t = Chat.__table__
members_t = Member.__table__
memberships_t = Membership.__table__
_MESSAGES = (EventKind.MESSAGE_CREATED, EventKind.COMMAND_INVOKED)


@dataclass(frozen=True, slots=True)
class PriorMembership:
    """A member's row in a chat as it was just before a join (``record`` returns it), so a
    campaign can tell a newcomer from someone who was there before (left, wrote, joined)."""

    active: bool
    joined_at: datetime | None
    left_at: datetime | None
    last_seen_at: datetime | None
    messages: int


@dataclass(frozen=True, slots=True)
class _Statements:
    """The bookkeeping statements for one dialect, built once and reused (rows differ only)."""

    chat: Insert
    member: Insert
    joined: Insert
    left: Insert
    message: Insert
    seen: Insert

    @classmethod
    def build(cls, dialect: str) -> _Statements:
        c = memberships_t.c

        def membership(update: dict[str, Any]) -> Insert:
            return upsert_statement(dialect, memberships_t, ["chat_key", "member_key"], update)

        return cls(
            chat=ignore_statement(dialect, chats_t),
            member=upsert_statement(dialect, members_t, ["key"], {"name": lambda ex: ex.name}),
            joined=membership(
                {
                    "active": True,
                    "left_at": None,
                    **{
                        col: (lambda ex, col=col: ex[col])
                        for col in ("joined_at", "last_seen_at", "invite_code", "invited_by", "invite_confidence")
                    },
                }
            ),
            left=membership({"active": False, "left_at": lambda ex: ex.left_at}),
            message=membership(
                {"active": True, "last_seen_at": lambda ex: ex.last_seen_at, "messages": c.messages + 1}
            ),
            seen=membership({"last_seen_at": lambda ex: ex.last_seen_at}),
        )


class Bookkeeper:
    """Keeps chats, members and memberships current; caches what it knows is stored.

    Cache additions made inside a transaction become visible only after it commits
    (:meth:`commit_pending`), so a rolled-back batch never leaves the cache ahead of the DB.
    Writes go through :func:`storage.tx.write`, so within a batch they are sent together.
    """

    def __init__(self) -> None:
        self._chats: set[str] = set()
        self._members: dict[str, str] = {}
        self._pending_chats: set[str] = set()
        self._pending_members: dict[str, str] = {}
        self._statements: dict[str, _Statements] = {}

    def commit_pending(self) -> None:
        self._chats |= self._pending_chats
        self._members.update(self._pending_members)
        self.forget_pending()

    def forget_pending(self) -> None:
        self._pending_chats = set()
        self._pending_members = {}

    def _known_member(self, key: str) -> str | None:
        return self._pending_members.get(key, self._members.get(key))

    def _for(self, conn: Conn) -> _Statements:
        name = conn.dialect.name
        if name not in self._statements:
            self._statements[name] = _Statements.build(name)
        return self._statements[name]

    async def record(self, conn: Conn, event: Event) -> PriorMembership | None:
        """Record the event's chat, member and membership; for a join, return the membership
        as it was before (None if the member was never seen in the chat)."""
        chat, user = event.chat, event.user
        stmts = self._for(conn)
        if chat is not None and chat.key not in self._chats and chat.key not in self._pending_chats:
            row = dict(key=chat.key, platform=chat.platform, title=chat.title, active=True, created_at=event.at)
            await write(conn, stmts.chat, [row])
            self._pending_chats.add(chat.key)
        if user is None:
            return None
        name = user.name or user.id
        if self._known_member(user.key) != name:
            row = dict(
                key=user.key,
                platform=user.platform,
                name=name,
                is_bot=user.is_bot,
                language=user.language,
                first_seen=event.at,
            )
            await write(conn, stmts.member, [row])
            self._pending_members[user.key] = name
        if chat is None or chat.type != "group":
            return None
        return await self._membership(conn, stmts, event, chat.key, user.key)

    async def _membership(
        self, conn: Conn, stmts: _Statements, event: Event, chat: str, member: str
    ) -> PriorMembership | None:
        prior = None
        row = dict(
            chat_key=chat,
            member_key=member,
            active=True,
            joined_at=None,
            left_at=None,
            last_seen_at=event.at,
            messages=0,
            invite_code=None,
            invited_by=None,
            invite_confidence=None,
        )
        if event.kind is EventKind.MEMBER_JOINED:
            inv = event.invite
            row.update(
                joined_at=event.at,
                invite_code=inv.code if inv else None,
                invited_by=inv.creator if inv else None,
                invite_confidence=inv.confidence if inv else None,
            )
            statement = stmts.joined
            prior = await _prior(conn, chat, member)
        elif event.kind is EventKind.MEMBER_LEFT:
            row.update(active=False, left_at=event.at)
            statement = stmts.left
        elif event.kind in _MESSAGES and not event.edited:
            row.update(messages=1)
            statement = stmts.message
        else:
            statement = stmts.seen
        await write(conn, statement, [row])
        return prior


async def _prior(conn: Conn, chat: str, member: str) -> PriorMembership | None:
    c = memberships_t.c
    q = select(c.active, c.joined_at, c.left_at, c.last_seen_at, c.messages).where(
        c.chat_key == chat, c.member_key == member
    )
    row = (await conn.execute(q)).first()
    return (
        PriorMembership(bool(row.active), row.joined_at, row.left_at, row.last_seen_at, int(row.messages or 0))
        if row
        else None
    )
