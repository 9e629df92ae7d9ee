"""Cron schedules in each group's timezone, turned into ``timer.fired`` events.

APScheduler's ``CronTrigger`` does the calendar arithmetic (DST included); this module only
decides which fires are due. Each fire becomes the event ``schedule:{campaign}:{chat}:{time}``,
so the engine's dedup handles it exactly once even if a restart or a second process sees it
again. After downtime, only the latest missed fire runs, and only if it is within the grace;
older ones are recorded as skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.config import Config
from bot.events import Chat, Event, EventKind, split_key
from campaigns.base import Campaign
from storage import timers
from storage.models import Chat as ChatRow
from storage.models import ScheduleFire
from storage.sql import insert_ignore

log = logging.getLogger(__name__)
fires_t = ScheduleFire.__table__
chats_t = ChatRow.__table__


@dataclass(slots=True)
class Slot:
    """One campaign schedule in one chat."""

    campaign: str
    chat: str
    trigger: CronTrigger
    last: datetime  # the last fire handled or skipped (or the anchor)


def trigger_for(cron: str, timezone: str) -> CronTrigger:
    return CronTrigger.from_crontab(cron, timezone=ZoneInfo(timezone))


def fire_after(trigger: CronTrigger, after: datetime) -> datetime | None:
    """The first fire strictly after ``after`` whose local wall-clock time is also later.

    On a fall-back night the wall clock repeats an hour and APScheduler would fire a
    ``30 3 * * *`` schedule at both 03:30s; like cron, each local time fires at most once,
    so a fire that does not move the wall clock past ``after`` is skipped.
    """
    zone = trigger.timezone
    wall = after.astimezone(zone).replace(tzinfo=None)
    fire = trigger.get_next_fire_time(after, after)
    while fire is not None and fire.astimezone(zone).replace(tzinfo=None) <= wall:
        fire = trigger.get_next_fire_time(fire, fire)
    return fire


def next_fires(cron: str, timezone: str, after: datetime, count: int = 3) -> list[datetime]:
    """The next ``count`` fire times from ``after`` on (aware, in the schedule's zone)."""
    trigger = trigger_for(cron, timezone)
    out: list[datetime] = []
    fire = fire_after(trigger, after - timedelta(microseconds=1))
    while fire is not None and len(out) < count:
        out.append(fire)
        fire = fire_after(trigger, fire)
    return out


class Scheduler:
    def __init__(
        self,
        config: Config,
        db: AsyncEngine,
        clock: Clock,
        campaigns: Iterable[Campaign],
        submit: Callable[[Sequence[Event]], Awaitable[None]],
        static_groups: Mapping[str, str] | Iterable[str] = (),
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        # disabled ones too: /campaign start may switch them on (bot/switches.py); the engine drops
        # the fires of a campaign that is off
        self.campaigns = [c for c in campaigns if c.schedules()]
        # one-off timers (storage/timers.py) are polled too, so the loop runs even without cron
        self.submit = submit
        titles = dict(static_groups) if isinstance(static_groups, Mapping) else dict.fromkeys(static_groups, "")
        titles.update({g.id: g.title for g in config.groups if g.title})
        self.titles: dict[str, str] = titles
        self.static_groups = set(titles) | {g.id for g in config.groups}
        self.grace: timedelta = config.scheduler.grace
        self._slots: dict[tuple[str, str], Slot] = {}
        self._dropped: set[tuple[str, str]] = set()  # slots of chats the bot left (or that moved)
        self._next_timer: datetime | None = None

    async def _chats(self) -> tuple[set[str], set[str]]:
        """The chats the bot is in and the ones it is out of (removed, or moved to a new id)."""
        active, inactive = set(), set()
        async with self.db.connect() as conn:
            for chat_key, title, is_active in await conn.execute(
                select(chats_t.c.key, chats_t.c.title, chats_t.c.active)
            ):
                (active if is_active else inactive).add(chat_key)
                if title and not self.titles.get(chat_key):
                    self.titles[chat_key] = title
        return active, inactive

    @staticmethod
    def _targets(campaign: Campaign, groups: set[str], inactive: set[str]) -> list[str]:
        """Where a campaign's schedule fires: its groups (or every group) the bot is still in."""
        named = campaign.config.groups
        return [g for g in (named if named is not None else sorted(groups)) if g not in inactive]

    async def refresh(self) -> None:
        """Create slots for chats that appeared since the last look, anchored at their last fire,
        and drop the slots of chats the bot is no longer in.

        A chat that was re-keyed (Telegram's group → supergroup) no longer exists under its old
        key, and one the bot was removed from is marked inactive: neither gets fires any more.
        A campaign that names an old key in ``groups`` keeps firing there; the adapter sends it
        to the chat's new id.
        """
        now = self.clock.now()
        async with self.db.connect() as conn:
            self._next_timer = await timers.next_timer(conn)
        active, inactive = await self._chats()
        groups = (self.static_groups | active) - inactive
        wanted: set[tuple[str, str]] = set()
        for campaign in self.campaigns:
            for chat in self._targets(campaign, groups, inactive):
                key = (campaign.name, chat)
                wanted.add(key)
                if key in self._slots:
                    continue
                async with self.db.connect() as conn:
                    q = select(func.max(fires_t.c.fire_time)).where(
                        fires_t.c.campaign == campaign.name, fires_t.c.chat_key == chat
                    )
                    last = (await conn.execute(q)).scalar_one_or_none()
                spec = campaign.schedules()[0]
                trigger = trigger_for(spec.cron, self.config.timezone_of(chat))
                # back in a chat it had left: what it missed meanwhile is not owed
                anchor = now if key in self._dropped else (last or now)
                self._dropped.discard(key)
                self._slots[key] = Slot(campaign.name, chat, trigger, anchor)
        for key in [k for k in self._slots if k not in wanted]:
            log.info("schedule %s no longer fires in %s (the bot left it, or it moved)", *key)
            del self._slots[key]
            self._dropped.add(key)

    async def run_due(self) -> datetime | None:
        """Fire everything due now; return when the next fire is due (None if never)."""
        await self.refresh()
        now = self.clock.now()
        events: list[Event] = []
        records: list[dict] = []
        moved: list[tuple[Slot, datetime]] = []
        for slot in self._slots.values():
            missed: list[datetime] = []
            fire = fire_after(slot.trigger, slot.last)
            while fire is not None and fire <= now and len(missed) < 100_000:
                missed.append(fire)
                fire = fire_after(slot.trigger, fire)
            if not missed:
                continue
            latest = missed[-1]
            if now - latest <= self.grace:
                events.append(self._event(slot, latest))
                records.append(self._record(slot, latest, "fired", now))
                skipped = missed[:-1]
            else:
                skipped = missed
            if skipped:
                log.warning(
                    "schedule %s in %s: %d fire(s) missed beyond the grace, skipped (last %s)",
                    slot.campaign,
                    slot.chat,
                    len(skipped),
                    skipped[-1].isoformat(),
                )
                records.append(self._record(slot, skipped[-1], "skipped", now))
            moved.append((slot, latest))
        async with self.db.connect() as conn:
            due = await timers.due_timers(conn, now)
        events += [self._timer_event(t) for t in due]
        if events:
            await self.submit(events)
        if records or due:
            async with self.db.begin() as conn:
                await insert_ignore(conn, fires_t, records)
                await timers.mark_fired(conn, [t.key for t in due])
        for slot, latest in moved:  # only now: a failed round is retried, never lost
            slot.last = latest
        async with self.db.connect() as conn:
            self._next_timer = await timers.next_timer(conn)
        return self.next_fire()

    @staticmethod
    def _timer_event(timer: timers.DueTimer) -> Event:
        chat = None
        platform = "hearth"
        if timer.chat:
            platform, chat_id = split_key(timer.chat)
            chat = Chat(platform, chat_id)
        return Event(
            id=f"timer:{timer.key}",
            kind=EventKind.TIMER_FIRED,
            platform=platform,
            self_id="scheduler",
            at=timer.due_at,
            chat=chat,
            timer=timer.campaign,
            data={**timer.payload, "member": timer.member},
        )

    def next_fire(self) -> datetime | None:
        """The next cron fire or one-off timer (as of the last look at the timers table)."""
        fires = [fire_after(s.trigger, s.last) for s in self._slots.values()]
        fires.append(self._next_timer)
        return min((f for f in fires if f is not None), default=None)

    def _event(self, slot: Slot, fire: datetime) -> Event:
        platform, chat_id = split_key(slot.chat)
        utc = fire.astimezone(ZoneInfo("UTC"))
        return Event(
            id=f"schedule:{slot.campaign}:{slot.chat}:{utc.isoformat()}",
            kind=EventKind.TIMER_FIRED,
            platform=platform,
            self_id="scheduler",
            at=utc,
            chat=Chat(platform, chat_id, self.titles.get(slot.chat, "")),
            timer=slot.campaign,
        )

    @staticmethod
    def _record(slot: Slot, fire: datetime, status: str, now: datetime) -> dict:
        return dict(campaign=slot.campaign, chat_key=slot.chat, fire_time=fire, status=status, recorded_at=now)

    async def run(self, tick: float = 30.0) -> None:
        """Loop forever: fire what is due, sleep until the next fire (at most ``tick``)."""
        while True:
            try:
                upcoming = await self.run_due()
            except Exception:
                log.exception("scheduler round failed")
                upcoming = None
            delay = tick
            if upcoming is not None:
                delay = min(tick, max(0.05, (upcoming - self.clock.now()).total_seconds()))
            await self.clock.sleep(delay)
