"""A conversation harness: the real engine, storage, scheduler and sender, a manual clock,
and the sandbox platform's recording stand-in, so tests read like a chat."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import select

from adapters.sandbox.decode import PLATFORM, decode
from bot import actions as act
from bot.clock import ManualClock
from bot.config import Config, parse
from bot.engine import Engine
from bot.events import Event
from bot.scheduler import Scheduler
from bot.sender import Sender
from bot.simulate import RecordingAdapter
from storage import db as storage_db
from storage.models import LedgerEntry


class Conversation:
    def __init__(
        self,
        config: Config,
        start: datetime,
        database: str = "sqlite+aiosqlite:///:memory:",
        coalesce_after: int = 4,
        adapter: type[RecordingAdapter] = RecordingAdapter,  # a subclass may offer other features
        first_id: int = 1,  # event ids continue from here (a second run on the same database)
    ) -> None:
        self.config = config.model_copy(update={"bot": config.bot.model_copy(update={"database": database})})
        self.clock = ManualClock(start)
        self.db = storage_db.create_engine(database)
        self.adapter = adapter(self.clock)
        self.engine = Engine(self.config, self.db, self.clock, features={PLATFORM: self.adapter.features})
        self.sender = Sender(self.db, {PLATFORM: self.adapter}, self.clock, coalesce_after=coalesce_after)
        self.scheduler = Scheduler(
            self.config, self.db, self.clock, self.engine.campaigns, self.engine.handle, {"sandbox:g1": "Group one"}
        )
        self._ids = itertools.count(first_id)
        self._seen = 0

    @classmethod
    async def open(cls, toml: str, start: datetime, **kwargs: object) -> Conversation:
        conv = cls(parse(toml, "test.toml"), start, **kwargs)  # type: ignore[arg-type]
        await storage_db.upgrade(conv.db)
        return conv

    async def close(self) -> None:
        await self.db.dispose()

    def event(self, op: str, user: str, chat: str = "g1", at: datetime | None = None, **fields: object) -> Event:
        if at is not None:
            self.clock.set(at)
        frame = {"op": op, "chat": chat, "user": user, **fields}
        creator = self.adapter.invite_creator(fields.get("invite")) if op == "join" else None  # the platform's answer
        event = decode(frame, str(next(self._ids)), self.clock.now(), {"g1": "Group one"}, creator)
        assert event is not None
        return event

    async def deliver(self, *events: Event) -> list[act.Action]:
        """Hand events to the engine as one batch, send what it produced, return the new actions."""
        await self.engine.handle(list(events))
        return await self.flush()

    async def flush(self) -> list[act.Action]:
        while await self.sender.drain() == 0.0:
            pass
        new = [a for _, a in self.adapter.performed[self._seen :]]
        self._seen = len(self.adapter.performed)
        return new

    async def say(self, user: str, text: str, chat: str = "g1", at: datetime | None = None) -> list[str]:
        """A member writes ``text``; returns the texts the bot sent in answer."""
        actions = await self.deliver(self.event("say", user, chat, at, text=text))
        return [a.content for a in actions if isinstance(a, act.SendMessage | act.SendDirect)]

    async def advance(self, delta: timedelta) -> list[str]:
        """Let time pass, firing schedules on the way; returns what the bot posted."""
        return [a.content for a in await self.advance_actions(delta) if isinstance(a, act.SendMessage)]

    async def advance_actions(self, delta: timedelta) -> list[act.Action]:
        """Let time pass, firing schedules and timers on the way; returns every action sent."""
        target = self.clock.now() + delta
        await self.scheduler.refresh()
        done: list[act.Action] = []
        while (fire := self.scheduler.next_fire()) is not None and fire <= target:
            self.clock.set(fire)
            await self.scheduler.run_due()
            done += await self.flush()
        self.clock.set(target)
        done += await self.flush()
        return done

    async def ledger(self) -> list[tuple[str, int, str]]:
        t = LedgerEntry.__table__.c
        async with self.db.connect() as conn:
            rows = await conn.execute(select(t.member_key, t.points, t.reason).order_by(t.id))
            return [tuple(r) for r in rows]  # type: ignore[misc]

    async def points(self, member: str) -> int:
        return sum(p for m, p, _ in await self.ledger() if m == f"{PLATFORM}:{member}")
