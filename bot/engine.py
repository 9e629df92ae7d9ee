"""The engine: one transaction per event (or per batch under load), exactly-once effects.

For each event: dedup on its id → member and chat bookkeeping → every matching campaign in
config order → their actions into the outbox → commit. A batch of events shares one commit
(group commit) with the same effects as one commit each; if anything in a batch fails, the
batch is rolled back and replayed one event per transaction, so one bad event never takes
others down and is recorded, not retried forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot import actions as act
from bot import commands
from bot.bookkeeping import Bookkeeper
from bot.clock import Clock
from bot.config import Config
from bot.context import Context
from bot.events import Command, Event, EventKind
from bot.outbox import outbox_row
from campaigns.base import REGISTRY, Campaign
from storage.models import OutboxMessage, ProcessedEvent

log = logging.getLogger(__name__)
processed_t = ProcessedEvent.__table__
outbox_t = OutboxMessage.__table__


def build_campaigns(config: Config) -> list[Campaign]:
    """Campaign objects in config order (disabled ones included; they check ``enabled``)."""
    return [REGISTRY[c.type](name, c) for name, c in config.campaigns.items()]


class Engine:
    """Turns committed events into state changes and outbox rows."""

    def __init__(
        self,
        config: Config,
        db: AsyncEngine,
        clock: Clock,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.on_commit = on_commit
        self.campaigns = build_campaigns(config)
        self.command_table = commands.command_table(self.campaigns)
        self.bookkeeper = Bookkeeper()
        self._aliases: dict[str | None, dict[str, str]] = {}
        self._zones: dict[str, ZoneInfo] = {}
        self.handled = 0
        self.failed = 0

    # --- public ----------------------------------------------------------------------------

    async def handle(self, events: Sequence[Event]) -> None:
        """Handle a batch in one transaction; on any failure replay it one event at a time."""
        if not events:
            return
        try:
            async with self.db.begin() as conn:
                await self._handle_batch(conn, events)
        except Exception:
            self.bookkeeper.forget_pending()
            if len(events) == 1:
                await self._record_failure(events[0])
            else:
                log.warning("batch of %d failed; replaying one by one", len(events))
                for event in events:
                    await self.handle([event])
            return
        self.bookkeeper.commit_pending()
        if self.on_commit:
            self.on_commit()

    # --- one batch ---------------------------------------------------------------------------

    async def _handle_batch(self, conn: AsyncConnection, events: Sequence[Event]) -> None:
        fresh = await self._unseen(conn, events)
        rows: list[dict] = []
        outbox: list[dict] = []
        for event in fresh:
            produced = await self._handle_one(conn, event)
            rows.append(self._processed_row(event))
            outbox.extend(outbox_row(a, event, self.clock.now()) for a in produced)
        if rows:
            await conn.execute(processed_t.insert(), rows)
        if outbox:
            await conn.execute(outbox_t.insert(), outbox)
        self.handled += len(fresh)

    async def _unseen(self, conn: AsyncConnection, events: Sequence[Event]) -> list[Event]:
        """Events not yet processed, first occurrence only, in order."""
        c = processed_t.c
        keys = list({e.dedup_key for e in events})
        seen: set[tuple[str, str, str]] = set()
        for start in range(0, len(keys), 300):
            chunk = keys[start : start + 300]
            q = select(c.platform, c.self_id, c.event_id).where(tuple_(c.platform, c.self_id, c.event_id).in_(chunk))
            seen.update((r[0], r[1], r[2]) for r in await conn.execute(q))
        fresh = []
        for e in events:
            if e.dedup_key not in seen:
                seen.add(e.dedup_key)
                fresh.append(e)
        return fresh

    def _processed_row(self, event: Event, error: str | None = None) -> dict:
        return dict(
            platform=event.platform,
            self_id=event.self_id,
            event_id=event.id,
            kind=str(event.kind),
            at=event.at,
            error=error,
        )

    async def _handle_one(self, conn: AsyncConnection, event: Event) -> list[act.Action]:
        await self.bookkeeper.record(conn, event)
        if event.user is not None and event.user.is_bot:
            return []
        chat_key = event.chat_key
        command = commands.parse(event, self._aliases_for(chat_key))
        if command is not None and event.kind is EventKind.MESSAGE_CREATED:
            event = _as_command(event)
        produced: list[act.Action] = []
        for campaign, cmd in self._targets(event, command):
            ctx = self._context(conn, event, cmd, campaign.name)
            await campaign.handle(ctx)
            produced.extend(ctx.actions)
        if command is not None and command.name == "help" and "help" not in self.command_table:
            ctx = self._context(conn, event, command, "")
            specs = [commands.HELP, *(s for c in self._live(event) for s in c.commands())]
            ctx.reply(commands.help_text(ctx.language, specs, ctx.is_admin))
            produced.extend(ctx.actions)
        return produced

    def _targets(self, event: Event, command: Command | None) -> list[tuple[Campaign, Command | None]]:
        if event.kind is EventKind.TIMER_FIRED:
            # a timer belongs to one campaign; a one-off timer (with data) fires even after the
            # campaign's window closed, so the campaign can finish what it started
            return [
                (c, None)
                for c in self.campaigns
                if c.name == event.timer
                and c.config.enabled
                and (event.data is not None or (c.applies_to(event.chat_key) and c.active_at(event.at)))
            ]
        live = self._live(event)
        if command is None:
            return [(c, None) for c in live]
        owners = {c.name for c, _ in self.command_table.get(command.name, [])}
        return [(c, command) for c in live if c.name in owners]

    def _live(self, event: Event) -> list[Campaign]:
        return [c for c in self.campaigns if c.applies_to(event.chat_key) and c.active_at(event.at)]

    def _context(self, conn: AsyncConnection, event: Event, command: Command | None, name: str) -> Context:
        chat = event.chat_key
        return Context(
            event=event,
            command=command,
            conn=conn,
            campaign=name,
            now=self.clock.now(),
            timezone=self.zone(chat),
            language=self.language(chat, event),
            group_title=event.chat.title if event.chat else "",
            is_admin=self.is_admin(event),
        )

    # --- settings ------------------------------------------------------------------------------

    def zone(self, chat_key: str | None) -> ZoneInfo:
        name = self.config.timezone_of(chat_key) if chat_key else self.config.bot.timezone
        if name not in self._zones:
            self._zones[name] = ZoneInfo(name)
        return self._zones[name]

    def language(self, chat_key: str | None, event: Event | None = None) -> str:
        if chat_key:
            return self.config.language_of(chat_key)
        if event and event.user and event.user.language in ("zh", "en", "ru"):
            return event.user.language
        return self.config.bot.language

    def is_admin(self, event: Event) -> bool:
        member = event.member_key
        if member is None:
            return False
        if event.admin:
            return True
        if member in self.config.bot.admins:
            return True
        group = self.config.group(event.chat_key) if event.chat_key else None
        return bool(group and member in group.admins)

    def _aliases_for(self, chat_key: str | None) -> dict[str, str]:
        if chat_key not in self._aliases:
            table: dict[str, str] = {}
            for c in self.campaigns:
                if c.config.enabled and c.applies_to(chat_key):
                    for alias, name in c.aliases().items():
                        table.setdefault(commands.normalize_alias(alias), name)
            self._aliases[chat_key] = table
        return self._aliases[chat_key]

    # --- failures ------------------------------------------------------------------------------

    async def _record_failure(self, event: Event) -> None:
        """Mark a poison event processed with its error and apologise once, in its own transaction."""
        log.exception("event %s (%s) failed; recorded and skipped", event.id, event.kind)
        self.failed += 1
        try:
            async with self.db.begin() as conn:
                if not await self._unseen(conn, [event]):
                    return
                await conn.execute(processed_t.insert(), [self._processed_row(event, "handler failed")])
                if event.chat_key and event.kind in (EventKind.MESSAGE_CREATED, EventKind.COMMAND_INVOKED):
                    text = self._context(conn, event, None, "").t("error.internal")
                    send = act.SendMessage(event.chat_key, text, reply_to=event.message_id)
                    await conn.execute(outbox_t.insert(), [outbox_row(send, event, self.clock.now())])
        except Exception:
            log.exception("could not record the failure of event %s", event.id)
            raise
        if self.on_commit:
            self.on_commit()


def _as_command(event: Event) -> Event:
    from dataclasses import replace

    return replace(event, kind=EventKind.COMMAND_INVOKED)
