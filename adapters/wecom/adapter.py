"""The WeCom customer-group adapter: callbacks in, roster syncs, join ways, broadcasts out.

Features are declared honestly: join attribution (exact through Hearth's join ways) and
nothing else — no buttons, no direct messages, no chat. The only post an app can make into a
customer group is a broadcast task its owner confirms, so a ``SendMessage`` marked
``broadcast`` (a scheduled announcement) becomes one, and any other message is refused with
the reason. Background work: stored callbacks are turned into joins and leaves as soon as
they arrive (and after a restart), rosters are synced at start and every ``sync_every``
(join ways of ended campaigns are deleted then), broadcast results are polled every
``poll_every``. With ``agent_id`` set, staff's ``/joinway`` texts to the app are answered
(:mod:`adapters.wecom.staff`).

The adapter knows no campaign code. ``hearth run`` hands it the parsed configuration
(:meth:`WeComAdapter.set_config`), whose campaign tables it reads exactly as ``hearth wecom``
does: the join way checks (:func:`adapters.wecom.joinways.plan`) and, after the first roster
sync, the welcome template (:func:`adapters.wecom.welcome.sync`, no API call when unchanged).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import EventSink, Feature, PermanentError, SendResult, TemporaryError
from adapters.wecom import welcome
from adapters.wecom.api import WeComClient
from adapters.wecom.broadcast import Broadcasts
from adapters.wecom.crypto import Crypto
from adapters.wecom.decode import PLATFORM
from adapters.wecom.joinways import JoinWays
from adapters.wecom.roster import Roster
from adapters.wecom.server import CallbackServer
from adapters.wecom.settings import NO_CHAT, WeComSettings
from adapters.wecom.staff import StaffCommands
from adapters.wecom.store import WeComStore
from bot import actions as act
from bot.clock import Clock
from bot.logs import SecretFilter
from bot.ratelimit import RateLimits

log = logging.getLogger(__name__)
CALLBACKS_KEPT = timedelta(days=7)  # handled callbacks kept this long to recognise WeCom's retries
RETRY = 30.0  # seconds before background work that failed for a temporary reason is tried again
NOT_POSTED = (
    f"not posted: {NO_CHAT} and no way to post; only scheduled announcements reach them, as "
    "broadcasts the group owner confirms (newcomers get the group welcome template staff attached)"
)


class WeComAdapter:
    platform = PLATFORM
    features = frozenset({Feature.JOIN_ATTRIBUTION})
    limits = RateLimits(per_second=5.0, burst=5, per_chat_per_second=1.0, per_chat_burst=1)

    def __init__(self, settings: WeComSettings, db: AsyncEngine, clock: Clock) -> None:
        self.settings = settings
        self.db = db
        self.clock = clock
        self.scrub = SecretFilter(settings.secrets())
        s = settings
        self.client = WeComClient(s.api_base, s.corp_id, s.secret.get_secret_value())
        self.crypto = Crypto(s.callback_token.get_secret_value(), s.encoding_aes_key.get_secret_value(), s.corp_id)
        self.store = WeComStore(db)
        self.ways = JoinWays(db, self.client)
        self.roster = Roster(s.corp_id, self.client, self.store, self.ways, clock, s.staff)
        self.broadcasts = Broadcasts(db, self.client, self.store, s.staff, s.monthly_cap)
        self.staff = StaffCommands(db, self.client, self.ways, clock, s.staff, s.agent_id or 0, self.scrub.scrub)
        self._wake = asyncio.Event()
        on_text = self.staff.add if s.agent_id else None
        self.server = CallbackServer(self.crypto, self.store, clock, s.host, s.port, s.path, self._wake.set, on_text)
        self._lock = asyncio.Lock()  # one roster change at a time
        self._staff_lock = asyncio.Lock()  # one answer at a time
        self._synced = asyncio.Event()  # the first roster sync is done
        self.welcome_checked = asyncio.Event()  # the welcome template was synced at start (or failed)
        self.config: Any = None
        self._tasks: list[asyncio.Task[None]] = []

    def __repr__(self) -> str:
        return f"WeComAdapter(corp_id={self.settings.corp_id!r})"

    def set_config(self, config: Any) -> None:
        """The parsed configuration: its campaign tables for ``/joinway`` and the welcome template."""
        self.config = config
        self.staff.config = config

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self, sink: EventSink) -> None:
        self.roster.sink = sink
        await self.server.start()
        s = self.settings
        self._wake.set()  # callbacks stored before a restart are handled first
        self._tasks = [
            asyncio.create_task(self._callbacks(), name="wecom-callbacks"),
            asyncio.create_task(self._every(s.sync_every.total_seconds(), self.sync_now), name="wecom-sync"),
            asyncio.create_task(self._every(s.poll_every.total_seconds(), self.poll_now), name="wecom-poll"),
            asyncio.create_task(self._welcome_at_start(), name="wecom-welcome"),
        ]
        log.info("WeCom corp %s: customer groups of %d staff", s.corp_id, len(s.staff))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.server.stop()
        await self.client.close()

    # --- work -------------------------------------------------------------------------------------

    async def handle_callbacks(self) -> int:
        """Roster changes, then staff's texts to the app; returns the events produced."""
        async with self._lock:
            produced = await self.roster.drain()
        async with self._staff_lock:
            await self.staff.drain()
        return produced

    async def sync_now(self) -> None:
        """Reconcile every group now, then delete the join ways of ended campaigns."""
        async with self._lock:
            produced = await self.roster.sync()
        self._synced.set()
        await self.store.forget_callbacks(self.clock.now() - CALLBACKS_KEPT)
        await self.staff.forget(self.clock.now() - CALLBACKS_KEPT)
        gone = await self.ways.prune(self.clock.now())
        log.info(
            "WeCom roster sync: %d missed join(s)/leave(s); %d join way(s) of ended campaigns deleted",
            produced,
            len(gone),
        )

    async def sync_welcome(self) -> list[welcome.Outcome]:
        """The welcome template of each welcome campaign on WeCom groups, from its text (no API
        call when the text is unchanged)."""
        if self.config is None:
            return []
        done = await welcome.sync(self.db, self.client, self.config)
        for o in done:
            level = logging.DEBUG if o.action == "unchanged" else logging.INFO
            log.log(level, "WeCom welcome template of %s %s (%s)", o.campaign, o.action, o.template_id)
        return done

    async def _welcome_at_start(self) -> None:
        await self._synced.wait()  # group names are known: {group} can be filled in
        while not self.welcome_checked.is_set():
            try:
                await self.sync_welcome()
                self.welcome_checked.set()
            except PermanentError as err:
                log.error("WeCom welcome template not synced: %s", self.scrub.scrub(str(err))[:300])
                self.welcome_checked.set()
            except Exception as err:
                await self._trouble("welcome template sync", err)

    async def poll_now(self) -> None:
        await self.broadcasts.poll(self.clock.now())

    async def _callbacks(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.handle_callbacks()
            except Exception as err:
                await self._trouble("handling callbacks", err)
                self._wake.set()

    async def _every(self, period: float, job: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await job()
            except Exception as err:
                await self._trouble(getattr(job, "__name__", "background work"), err)
                continue
            await asyncio.sleep(period)

    async def _trouble(self, what: str, err: Exception) -> None:
        wait = getattr(err, "retry_after", None) or RETRY
        level = logging.WARNING if isinstance(err, TemporaryError) else logging.ERROR
        log.log(level, "WeCom %s failed (%s); again in %.0fs", what, self.scrub.scrub(str(err))[:300], wait)
        await asyncio.sleep(wait)

    # --- sending ----------------------------------------------------------------------------------

    async def perform(self, action: act.Action, idempotency_key: str) -> SendResult:
        if isinstance(action, act.SendMessage) and action.chat.startswith(f"{PLATFORM}:"):
            if not action.broadcast:
                raise PermanentError(NOT_POSTED)
            chat_id = action.chat.partition(":")[2]
            return await self.broadcasts.send(chat_id, action.content, idempotency_key, self.clock.now())
        raise PermanentError(f"{action.kind}: {NO_CHAT}; WeCom customer groups offer no such action")
