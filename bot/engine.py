"""The engine: one transaction per event (or per batch under load), exactly-once effects.

For each event: dedup on its id → member and chat bookkeeping → every matching campaign in
config order → their actions into the outbox → commit. A batch of events shares one commit
(group commit) with the same effects as one commit each; if anything in a batch fails, the
batch is rolled back and replayed one event per transaction, so one bad event never takes
others down and is recorded, not retried forever. A failure of the database itself (locked,
connection lost: :mod:`bot.db_errors`) is re-raised instead: the event is not acknowledged
and comes again.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot import actions as act
from bot import commands
from bot.bookkeeping import Bookkeeper
from bot.builtins import Builtins, Planned
from bot.clock import Clock
from bot.config import Config
from bot.context import Context
from bot.db_errors import is_transient
from bot.events import Command, Event, EventKind
from bot.outbox import outbox_row
from bot.rules import RULES, Rules
from bot.switches import Switches
from campaigns.base import REGISTRY, Campaign
from storage.models import OutboxMessage, ProcessedEvent
from storage.tx import Tx

log = logging.getLogger(__name__)
processed_t = ProcessedEvent.__table__
outbox_t = OutboxMessage.__table__
_processed_insert = processed_t.insert()
_SEEN = select(processed_t.c.event_id).where(
    processed_t.c.platform == bindparam("platform"),
    processed_t.c.self_id == bindparam("self_id"),
    processed_t.c.event_id.in_(bindparam("ids", expanding=True)),
)
_outbox_insert = outbox_t.insert()


@dataclass(slots=True)
class _Job:
    """A fresh event of a batch and the contexts it will run with (its plan)."""

    event: Event
    contexts: list[tuple[Campaign, Context]]
    builtin: Planned | None = None  # a built-in command or timer, after the campaigns (bot/builtins.py)
    rules: Context | None = None  # keyword rules, last (bot/rules.py)


def build_campaigns(config: Config) -> list[Campaign]:
    """Campaign objects in config order (disabled ones included; they check ``enabled``)."""
    built = [REGISTRY[c.type](name, c) for name, c in config.campaigns.items()]
    for campaign in built:
        campaign.setup(config, built)
    return built


class Engine:
    """Turns committed events into state changes and outbox rows."""

    def __init__(
        self,
        config: Config,
        db: AsyncEngine,
        clock: Clock,
        on_commit: Callable[[], None] | None = None,
        features: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.on_commit = on_commit
        # platform -> what it can do (adapters' capability flags); unknown platforms: text only
        self.features = {p: frozenset(str(f) for f in fs) for p, fs in (features or {}).items()}
        self.campaigns = build_campaigns(config)
        self.command_table = commands.command_table(self.campaigns)
        self.switches = Switches(self.campaigns)  # /campaign start|stop, persisted
        self.builtins = Builtins(self)  # /help and the admin commands
        self.rules = Rules(config.rules)  # [[rules]]
        self.bookkeeper = Bookkeeper()
        self._aliases: dict[str | None, dict[str, str]] = {}
        self._groups: dict[str, tuple[ZoneInfo, str, frozenset[str]]] = {}
        self._owners: dict[str, set[str]] = {}  # command -> campaigns that answer it
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
        except Exception as err:
            self.bookkeeper.forget_pending()
            if is_transient(err):  # the database, not the event: not acknowledged, delivered again
                log.warning("database unavailable (%s); %d event(s) not taken", type(err).__name__, len(events))
                raise
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
        """Plan every fresh event, let campaigns prefetch, then run them in order.

        Writes are queued on the :class:`Tx` and sent together (before any read that could
        see them, and at the end), so a batch costs a few round trips rather than a few per
        event, with the effects of handling each event alone, in order.
        """
        tx = Tx(conn)
        if await self.switches.sync(tx, self.clock.now()):
            self._aliases.clear()
        fresh = await self._unseen(tx, events)
        pending = deque(fresh)
        while pending:
            routing = self._routing()
            jobs = [self._plan(tx, event) for event in pending]
            await self._prefetch(jobs)
            for job in jobs:
                pending.popleft()
                produced = await self._run(tx, job)
                tx.add(_processed_insert, self._processed_row(job.event))
                for action in produced:
                    tx.add(_outbox_insert, outbox_row(action, job.event, self.clock.now()))
                if self._routing() != routing:  # an event switched a campaign: plan the rest again
                    self._aliases.clear()
                    break
        await tx.flush()
        self.handled += len(fresh)

    def _routing(self) -> tuple[object, ...]:
        """What plans depend on besides the event: each campaign's (switchable) config."""
        return tuple(c.config for c in self.campaigns)

    async def _unseen(self, conn: Tx, events: Sequence[Event]) -> list[Event]:
        """Events not yet processed, first occurrence only, in order."""
        ids: dict[tuple[str, str], set[str]] = {}
        for e in events:
            ids.setdefault((e.platform, e.self_id), set()).add(e.id)
        seen: set[tuple[str, str, str]] = set()
        for (platform, self_id), some in ids.items():  # equality + IN: an index search, not a scan
            some_ids = sorted(some)
            for start in range(0, len(some_ids), 400):
                chunk = some_ids[start : start + 400]
                params = {"platform": platform, "self_id": self_id, "ids": chunk}
                seen.update((platform, self_id, r[0]) for r in await conn.execute(_SEEN, params))
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

    def _plan(self, tx: Tx, event: Event) -> _Job:
        """Which campaigns see the event, with which command: a pure function of event and config."""
        if event.user is not None and event.user.is_bot:
            return _Job(event, [])
        command = commands.parse(event, self._aliases_for(event.chat_key))
        seen = _as_command(event) if command is not None and event.kind is EventKind.MESSAGE_CREATED else event
        contexts = [(c, self._context(tx, seen, cmd, c.name)) for c, cmd in self._targets(seen, command)]
        job = _Job(event, contexts)
        job.contexts, job.builtin = self.builtins.plan(
            seen, command, contexts, lambda name: self._context(tx, seen, command, name)
        )
        if self.rules.wants(seen):
            job.rules = self._context(tx, seen, command, RULES)
        return job

    async def _prefetch(self, jobs: Sequence[_Job]) -> None:
        """Give each campaign, once per batch, the contexts it is about to handle."""
        planned: dict[str, list[Context]] = {}
        for job in jobs:
            for campaign, ctx in job.contexts:
                planned.setdefault(campaign.name, []).append(ctx)
        for campaign in self.campaigns:
            if campaign.name in planned:
                await campaign.prefetch(planned[campaign.name])

    async def _run(self, tx: Tx, job: _Job) -> list[act.Action]:
        prior = await self.bookkeeper.record(tx, job.event)
        produced: list[act.Action] = []
        for campaign, ctx in job.contexts:
            ctx.prior_membership = prior
            await campaign.handle(ctx)
            produced.extend(ctx.actions)
        if job.builtin is not None:
            produced.extend(await self.builtins.run(job.builtin))
        if job.rules is not None:
            produced.extend(await self.rules.apply(job.rules))
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
        owners = self._owners.get(command.name)
        if owners is None:
            owners = self._owners[command.name] = {c.name for c, _ in self.command_table.get(command.name, [])}
        return [(c, command) for c in live if c.name in owners]

    def _live(self, event: Event) -> list[Campaign]:
        chat = event.chat_key
        return [c for c in self.campaigns if c.applies_to(chat) and c.active_at(event.at)]

    def _context(self, conn: Tx, event: Event, command: Command | None, name: str) -> Context:
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
            features=self.features.get(event.platform, frozenset()),
            config=self.config,
        )

    # --- settings ------------------------------------------------------------------------------

    def _group(self, chat_key: str) -> tuple[ZoneInfo, str, frozenset[str]]:
        """A chat's timezone, language and admins from the config (looked up once per chat)."""
        found = self._groups.get(chat_key)
        if found is None:
            group = self.config.group(chat_key)
            admins = frozenset(group.admins) if group else frozenset()
            found = (ZoneInfo(self.config.timezone_of(chat_key)), self.config.language_of(chat_key), admins)
            self._groups[chat_key] = found
        return found

    def zone(self, chat_key: str | None) -> ZoneInfo:
        return self._group(chat_key)[0] if chat_key else ZoneInfo(self.config.bot.timezone)

    def language(self, chat_key: str | None, event: Event | None = None) -> str:
        if chat_key:
            return self._group(chat_key)[1]
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
        chat = event.chat_key
        return chat is not None and member in self._group(chat)[2]

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
                tx = Tx(conn)
                if not await self._unseen(tx, [event]):
                    return
                tx.add(_processed_insert, self._processed_row(event, "handler failed"))
                if event.chat_key and event.kind in (EventKind.MESSAGE_CREATED, EventKind.COMMAND_INVOKED):
                    text = self._context(tx, event, None, "").t("error.internal")
                    send = act.SendMessage(event.chat_key, text, reply_to=event.message_id, cause=event.id)
                    tx.add(_outbox_insert, outbox_row(send, event, self.clock.now()))
                await tx.flush()
        except Exception:
            log.exception("could not record the failure of event %s", event.id)
            raise
        if self.on_commit:
            self.on_commit()


_EVENT_FIELDS = tuple(f.name for f in fields(Event))


def _as_command(event: Event) -> Event:
    """The event as a command invocation: ``dataclasses.replace`` without its per-call
    introspection (this runs for most events)."""
    command = object.__new__(Event)
    for name in _EVENT_FIELDS:
        object.__setattr__(command, name, getattr(event, name))
    object.__setattr__(command, "kind", EventKind.COMMAND_INVOKED)
    return command
