"""From decoded dispatches to committed events: what the pure decoder cannot know.

For each batch (everything the gateway delivered while the previous batch was committing):

* joins: which invite the newcomer used (:mod:`.invites`), counted in the channel that
  invite leads to when Hearth works there, else in the guild's ``join_channel``; credited to
  the member the bot made the invite for, or to the invite's creator;
* leaves: a member leaves a guild, so every channel of it where they were active;
* messages: whether the author is an admin (owner, or a role with Administrator or Manage
  Server, from discord.py's cache of the guild's roles);
* button ids too long for Discord: the stored payload.

The adapter then submits the completed events to the engine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.discord.decode import LONG_PREFIX, Me, chat_key, member_key, rejoined
from adapters.discord.encode import INVITE_URL
from adapters.discord.invites import Attribution, InviteTracker
from bot.events import Chat, Event, EventKind, Invite
from storage.adapter_state import StateCache
from storage.models import Membership

log = logging.getLogger(__name__)
memberships_t = Membership.__table__
AdminCheck = Callable[[str, str, Sequence[str]], bool]  # guild, user, role ids -> admin?
Decoded = tuple[dict[str, Any], Event]  # the dispatch and its event


class Receiver:
    def __init__(self, me: Me, invites: InviteTracker, state: StateCache, db: AsyncEngine, admin: AdminCheck) -> None:
        self.me = me
        self.invites = invites
        self.state = state
        self.db = db
        self.admin = admin

    async def complete(self, batch: Sequence[Decoded]) -> list[Event]:
        """The batch's events with what the decoder could not know filled in."""
        joins: dict[str, int] = {}
        for payload, event in batch:
            if event.kind is EventKind.MEMBER_JOINED:
                guild = str(payload["d"]["guild_id"])
                joins[guild] = joins.get(guild, 0) + 1
        found = {guild: await self.invites.attribute(guild, n) for guild, n in joins.items()}
        events: list[Event] = []
        for payload, event in batch:
            d = payload.get("d") or {}
            if event.kind is EventKind.MEMBER_JOINED:
                events.append(await self._joined(event, str(d["guild_id"]), found[str(d["guild_id"])], payload))
            elif event.kind is EventKind.MEMBER_LEFT:
                events += await self._left(event, str(d["guild_id"]))
            elif event.kind is EventKind.MESSAGE_CREATED and event.chat and event.chat.type == "group" and event.user:
                roles = (d.get("member") or {}).get("roles") or ()
                admin = self.admin(str(d.get("guild_id")), event.user.id, [str(r) for r in roles])
                events.append(replace(event, admin=admin) if admin else event)
            elif event.kind is EventKind.BUTTON_CLICKED and (event.button_data or "").startswith(LONG_PREFIX):
                data = await self.state.get(f"cb:{event.button_data}")
                events.append(replace(event, button_data=data) if data is not None else event)
            else:
                events.append(event)
        return events

    async def _joined(self, event: Event, guild: str, found: Attribution, payload: dict[str, Any]) -> Event:
        invite, channel = await self._invite(found, guild)
        if rejoined(payload):
            invite = replace(invite, rejoin=True)
        chat = replace(event.chat, id=channel) if event.chat is not None and channel else event.chat
        return replace(event, chat=chat, invite=invite)

    async def _invite(self, found: Attribution, guild: str) -> tuple[Invite, str | None]:
        """The :class:`Invite` of an attribution, and the channel the join counts in (if not home)."""
        known = found.invite
        if found.via == "vanity" and known is not None:
            return Invite(code=known.code, via="vanity", confidence="unknown"), None
        if known is None:
            return Invite(via="unknown", confidence="unknown"), None
        creator = await self.state.get(f"invite:{known.code}")
        if creator is None and known.inviter and known.inviter != self.me.id:
            creator = member_key(known.inviter)
        channel = known.channel if known.channel and self.me.guild_of.get(known.channel) == guild else None
        link = INVITE_URL.format(code=known.code)
        return Invite(code=link, creator=creator, via="link", confidence=found.confidence), channel

    async def _left(self, event: Event, guild: str) -> list[Event]:
        """One leave for each of the guild's channels where the member was active (at least home)."""
        assert event.chat is not None and event.user is not None
        chats = [chat_key(c) for c, g in self.me.guild_of.items() if g == guild]
        c = memberships_t.c
        q = select(c.chat_key).where(c.member_key == event.user.key, c.active.is_(True), c.chat_key.in_(chats))
        async with self.db.connect() as conn:
            active = {row[0] for row in await conn.execute(q)}
        out = [event]
        for key in chats:
            if key in active and key != event.chat.key:
                channel = key.partition(":")[2]
                chat = Chat(event.chat.platform, channel, "", "group")
                out.append(replace(event, id=f"{event.id}:{channel}", chat=chat))
        return out
