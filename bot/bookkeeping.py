"""Member, chat and membership bookkeeping done for every event, before any campaign runs."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.events import Event, EventKind
from storage.models import Chat, Member, Membership
from storage.sql import insert_ignore, upsert

chats_t = Chat.__table__
members_t = Member.__table__
memberships_t = Membership.__table__


class Bookkeeper:
    """Keeps chats, members and memberships current; caches what it knows is stored.

    Cache additions made inside a transaction become visible only after it commits
    (:meth:`commit_pending`), so a rolled-back batch never leaves the cache ahead of the DB.
    """

    def __init__(self) -> None:
        self._chats: set[str] = set()
        self._members: dict[str, str] = {}
        self._pending_chats: set[str] = set()
        self._pending_members: dict[str, str] = {}

    def commit_pending(self) -> None:
        self._chats |= self._pending_chats
        self._members.update(self._pending_members)
        self.forget_pending()

    def forget_pending(self) -> None:
        self._pending_chats = set()
        self._pending_members = {}

    def _known_member(self, key: str) -> str | None:
        return self._pending_members.get(key, self._members.get(key))

    async def record(self, conn: AsyncConnection, event: Event) -> None:
        chat, user = event.chat, event.user
        if chat is not None and chat.key not in self._chats and chat.key not in self._pending_chats:
            await insert_ignore(
                conn,
                chats_t,
                [dict(key=chat.key, platform=chat.platform, title=chat.title, active=True, created_at=event.at)],
            )
            self._pending_chats.add(chat.key)
        if user is None:
            return
        name = user.name or user.id
        if self._known_member(user.key) != name:
            await upsert(
                conn,
                members_t,
                [
                    dict(
                        key=user.key,
                        platform=user.platform,
                        name=name,
                        is_bot=user.is_bot,
                        language=user.language,
                        first_seen=event.at,
                    )
                ],
                keys=["key"],
                update={"name": lambda ex: ex.name},
            )
            self._pending_members[user.key] = name
        if chat is None or chat.type != "group":
            return
        await self._membership(conn, event, chat.key, user.key)

    async def _membership(self, conn: AsyncConnection, event: Event, chat: str, member: str) -> None:
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
        c = memberships_t.c
        if event.kind is EventKind.MEMBER_JOINED:
            inv = event.invite
            row.update(
                joined_at=event.at,
                invite_code=inv.code if inv else None,
                invited_by=inv.creator if inv else None,
                invite_confidence=inv.confidence if inv else None,
            )
            update = {
                "active": True,
                "joined_at": event.at,
                "left_at": None,
                "last_seen_at": event.at,
                "invite_code": row["invite_code"],
                "invited_by": row["invited_by"],
                "invite_confidence": row["invite_confidence"],
            }
        elif event.kind is EventKind.MEMBER_LEFT:
            row.update(active=False, left_at=event.at)
            update = {"active": False, "left_at": event.at}
        elif event.kind in (EventKind.MESSAGE_CREATED, EventKind.COMMAND_INVOKED) and not event.edited:
            row.update(messages=1)
            update = {"active": True, "last_seen_at": event.at, "messages": c.messages + 1}
        else:
            update = {"last_seen_at": event.at}
        await upsert(conn, memberships_t, [row], keys=["chat_key", "member_key"], update=update)
