"""From a batch of updates to committed events: the path polling and the webhook share.

For each batch: apply chat-level facts (the bot added or removed, admin changes, group →
supergroup moves), decode, drop a join or leave already reported by ``chat_member``, fill
what the pure decoder cannot know (a poll answer's chat, admin status, long button
payloads, links whose name was edited), then ``await sink.submit(events)``, which returns
only once they are committed. Only then may the caller confirm the updates to Telegram.

An update that cannot be decoded is logged and skipped, never retried forever; a database
failure propagates, so the caller does not confirm and Telegram delivers again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from aiogram.types import Update

from adapters.base import EventSink
from adapters.telegram.admins import AdminCache
from adapters.telegram.callbacks import CallbackAnswers
from adapters.telegram.decode import Me, admin_change, chat_status, decode_all, from_service_message, migration
from adapters.telegram.encode import LONG_DATA_PREFIX
from adapters.telegram.fast import LightUpdate
from adapters.telegram.store import TelegramStore
from bot.clock import Clock
from bot.events import Chat, Event, EventKind, split_key

log = logging.getLogger(__name__)
_MEMBERSHIP = (EventKind.MEMBER_JOINED, EventKind.MEMBER_LEFT)


class Receiver:
    def __init__(
        self,
        me: Me,
        sink: EventSink,
        store: TelegramStore,
        admins: AdminCache,
        callbacks: CallbackAnswers,
        clock: Clock,
    ) -> None:
        self.me = me
        self.sink = sink
        self.store = store
        self.admins = admins
        self.callbacks = callbacks
        self.clock = clock
        self.skipped = 0

    async def handle(self, updates: Sequence[Update | LightUpdate]) -> None:
        """Commit what ``updates`` mean; returns only after the commit."""
        now = self.clock.now()
        pending: list[Event] = []
        presses: list[str] = []
        for update in updates:
            status = chat_status(update, self.me)
            if status is not None:
                await self.store.set_active(status.chat, status.active, status.at, status.title)
                log.info("the bot is %s %s", "in" if status.active else "out of", status.chat)
            changed = admin_change(update)
            if changed is not None:
                self.admins.invalidate(int(split_key(changed)[1]))
            moved = migration(update)
            if moved is not None:
                await self._submit(pending)  # what came before the move is committed under the old key
                pending = []
                await self.store.migrate(*moved)
                continue
            try:
                events = decode_all(update, self.me, now)
            except Exception:  # a shape we do not understand: skip it, never stall the queue
                self.skipped += 1
                log.exception("skipped update %s that could not be decoded", update.update_id)
                continue
            if update.callback_query is not None:
                presses.append(update.callback_query.id)
            pending.extend(events)
        await self._submit(pending)
        self.callbacks.committed(presses)

    async def _submit(self, events: list[Event]) -> None:
        events = await self._complete(events)
        if events:
            await self.sink.submit(events)

    async def _complete(self, events: list[Event]) -> list[Event]:
        groups = {int(e.chat.id) for e in events if e.chat is not None and e.chat.type == "group" and e.user}
        admins = await self.admins.many(groups) if groups else {}
        reported = {e.id for e in events if e.kind in _MEMBERSHIP and not from_service_message(e)}
        out: list[Event] = []
        for event in events:
            if event.kind in _MEMBERSHIP and from_service_message(event):
                chat_admins = admins.get(int(event.chat.id)) if event.chat else None
                if event.id in reported or (chat_admins is not None and self.me.id in chat_admins):
                    continue  # chat_member reports this one (with the invite link): the truth
            completed = await self._fill(event)
            if completed is None:
                continue
            if completed.user is not None and completed.chat is not None and completed.chat.type == "group":
                ids = admins.get(int(completed.chat.id))
                if ids is not None and completed.user.id in ids:
                    completed = replace(completed, admin=True)
            out.append(completed)
        return out

    async def _fill(self, event: Event) -> Event | None:
        if event.kind is EventKind.POLL_ANSWERED:
            chat = await self.store.poll_chat(event.poll_id or "")
            if chat is None:
                return None  # a poll this bot did not send (or from before its records)
            ident = split_key(chat)[1]
            kind = "private" if not ident.startswith("-") else "group"
            return replace(event, chat=Chat("telegram", ident, "", kind))
        if event.kind is EventKind.BUTTON_CLICKED and (event.button_data or "").startswith(LONG_DATA_PREFIX):
            data = await self.store.callback_data(event.button_data or "")
            return replace(event, button_data=data) if data is not None else event
        if event.kind is EventKind.MEMBER_JOINED and event.invite and event.invite.code and not event.invite.creator:
            owner = await self.store.link_owner(event.invite.code)
            if owner is not None:
                return replace(event, invite=replace(event.invite, creator=owner, confidence="exact"))
        return event
