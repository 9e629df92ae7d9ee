"""Rosters: turn ``change_external_chat`` callbacks and full syncs into joins and leaves.

Both paths do the same thing for a group: fetch ``groupchat/get``, diff it against the stored
roster, hand the ``member.joined`` / ``member.left`` events to the engine (which commits them
before :meth:`EventSink.submit` returns), then store the new roster. The events' ids name the
membership, so a join reconciled by a sync after downtime and the late callback for it are
one event, and a replay after a crash changes nothing.

* After a callback WeCom's details may lag: while members it named are missing (or removed
  ones still listed), ``groupchat/get`` is asked again with doubling delays.
* The first look at a group records its members as they are, without events (they were
  there before Hearth), except members who came through a Hearth join way: those joins are
  emitted so their referrers are credited.
* A full sync (at start and every ``sync_every``) walks ``groupchat/list`` for the staff's
  groups; events it finds carry the sync time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from adapters.base import EventSink, PermanentError, TemporaryError
from adapters.wecom.api import WeComAPIError, WeComClient
from adapters.wecom.decode import GroupDetail, Member, diff, group_detail, join_event, leave_event
from adapters.wecom.joinways import JoinWays, invite_for
from adapters.wecom.store import StoredCallback, WeComStore
from bot.clock import Clock
from bot.events import Event

log = logging.getLogger(__name__)
GONE = {49008, 40050, 90501}  # group dismissed / not found / not a customer group of this corp


class Roster:
    def __init__(
        self,
        corp_id: str,
        client: WeComClient,
        store: WeComStore,
        ways: JoinWays,
        clock: Clock,
        staff: Sequence[str],
        lag_delay: float = 1.0,
        lag_tries: int = 5,
    ) -> None:
        self.corp_id = corp_id
        self.client = client
        self.store = store
        self.ways = ways
        self.clock = clock
        self.staff = set(staff)
        self.lag_delay = lag_delay
        self.lag_tries = lag_tries
        self.sink: EventSink | None = None

    def _admin(self, member: Member) -> bool:
        return member.type == 1 or member.userid in self.staff

    async def _fetch(self, chat_id: str, added: set[str], removed: set[str]) -> GroupDetail | None:
        """The group's details, asked again while they lag behind the callback; None if gone."""
        delay = self.lag_delay
        for attempt in range(self.lag_tries):
            try:
                group = group_detail(await self.client.group(chat_id))
            except WeComAPIError as err:
                if err.errcode in GONE:
                    return None
                raise
            ids = {m.userid for m in group.members}
            if (added <= ids and not removed & ids) or attempt == self.lag_tries - 1:
                return group
            await self.clock.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    async def update(self, chat_id: str, at: datetime, added: Sequence[str] = (), removed: Sequence[str] = ()) -> int:
        """Bring one group's roster up to date; returns how many events it produced."""
        assert self.sink is not None
        group = await self._fetch(chat_id, set(added), set(removed))
        if group is None:
            return await self.dismiss(chat_id, at)
        group = GroupDetail(group.chat_id or chat_id, group.name, group.owner, group.members)
        first = not await self.store.known(chat_id)
        stored = await self.store.roster(chat_id)
        joined, left = diff(stored, group)
        if first:
            states = {m.state for m in joined if m.state}
            joined = [m for m in joined if m.state in (await self.ways.by_states(states))] if states else []
        ways = await self.ways.by_states({m.state for m in joined if m.state})
        events: list[Event] = [leave_event(self.corp_id, chat_id, group.name, m, at, self._admin(m)) for m in left]
        events += [
            join_event(self.corp_id, group, m, at, invite_for(ways.get(m.state or ""), m), self._admin(m))
            for m in joined
        ]
        if events:
            await self.sink.submit(events)
        await self.store.save(group, at, len(joined), len(left), baseline=first)
        return len(events)

    async def dismiss(self, chat_id: str, at: datetime) -> int:
        """The group is gone: everyone in it left."""
        assert self.sink is not None
        stored = await self.store.roster(chat_id)
        info = await self.store.group(chat_id)
        title = info[0] if info else ""
        events = [leave_event(self.corp_id, chat_id, title, m, at, self._admin(m)) for m in stored.values()]
        if events:
            await self.sink.submit(events)
        await self.store.dismiss(chat_id, at, len(events))
        return len(events)

    async def handle(self, cb: StoredCallback) -> int:
        """One stored callback; its events carry WeCom's ``CreateTime`` (never later than now)."""
        now = self.clock.now()
        at = cb.at if cb.at.timestamp() > 0 and cb.at <= now else now
        if cb.change == "dismiss":
            return await self.dismiss(cb.chat_id, at)
        added = cb.members if cb.detail == "add_member" else ()
        removed = cb.members if cb.detail == "del_member" else ()
        return await self.update(cb.chat_id, at, added, removed)

    async def drain(self) -> int:
        """Handle every stored callback not handled yet, oldest first; returns events produced."""
        produced = 0
        while batch := await self.store.pending_callbacks():
            for cb in batch:
                try:
                    produced += await self.handle(cb)
                except PermanentError as err:
                    log.error("WeCom callback for group %s could not be handled: %s", cb.chat_id, err)
                await self.store.callback_done(cb.id)
        return produced

    async def sync(self) -> int:
        """Reconcile every group the staff own (and every group Hearth knows); returns events."""
        now = self.clock.now()
        listed = await self.client.group_ids(sorted(self.staff))
        known = await self.store.active_groups()
        produced = 0
        for chat_id in dict.fromkeys([*listed, *known]):
            try:
                produced += await self.update(chat_id, now)  # a known group no longer listed may be gone
            except TemporaryError:
                raise
            except PermanentError as err:
                log.warning("WeCom group %s skipped in this sync: %s", chat_id, err)
        return produced
