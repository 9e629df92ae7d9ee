"""The sender: drains the outbox per platform and per chat within the adapters' rate limits.

A row is marked sent only after the adapter returned. Healable errors are retried with
back-off (honouring ``retry_after``), permanent ones recorded. Rows to one chat go in order;
under backlog, several plain replies to one chat are merged into one message.

Each send carries an idempotency key that never names different content: ``outbox:{id}`` for
one row, ``outbox:{first}-{last}`` for a merged send. A merge is written to the outbox
(``merged_into``) before it is tried, so a retry or a restart sends the same rows as one
again, and a row that may already have been tried alone (it was tried, or it headed its
chat's queue when this process started, see :meth:`Sender.resume`) is never merged. A platform that honours the key
therefore neither loses nor doubles a reply when the process dies between send and mark.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import Adapter, PermanentError, SendResult, TemporaryError
from bot import actions as act
from bot import followups, outbox
from bot.clock import Clock, SystemClock
from bot.ratelimit import Limiter

log = logging.getLogger(__name__)
MAX_MERGED_LENGTH = 3500
NOT_SENT_WAIT = 10.0  # seconds between looks at a platform that is not connected


class Sender:
    def __init__(
        self,
        db: AsyncEngine,
        adapters: Mapping[str, Adapter],
        clock: Clock,
        coalesce_after: int = 4,
        concurrency: int = 8,
        ticks: Callable[[], float] | None = None,
    ) -> None:
        self.db = db
        self.adapters = dict(adapters)
        self.clock = clock
        # rate-limit time in seconds: monotonic for the system clock (immune to wall-clock
        # steps), the injected clock otherwise, so simulated time drives the token buckets too
        self._ticks = ticks or (time.monotonic if isinstance(clock, SystemClock) else lambda: clock.now().timestamp())
        self.coalesce_after = coalesce_after
        self.limiters = {name: Limiter(a.limits) for name, a in self.adapters.items()}
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        # the bookkeeping transactions of concurrent sends one at a time: on an in-memory SQLite
        # (one shared connection: simulate, tests) interleaved ones would undo each other
        self._writes = asyncio.Lock()
        self._unsure: set[int] = set()  # rows that may have been tried alone: never merged
        self._stopping = False
        self.sent = 0

    def wake(self) -> None:
        self._wake.set()

    async def resume(self) -> None:
        """Before draining an outbox an earlier process left: the row heading each chat's queue
        may have been in flight when it stopped, so it is sent alone, under its own key."""
        async with self.db.connect() as conn:
            self._unsure.update(await outbox.heads(conn, list(self.adapters)))

    def stop(self) -> None:
        """Ask :meth:`run` to return once the round in flight is sent and marked."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Drain until :meth:`stop`; sleeps until woken, a row comes due, or a rate limit allows."""
        while not self._stopping:
            try:
                delay = await self.drain()
            except Exception:
                log.exception("sender round failed; retrying shortly")
                delay = 1.0
            if delay > 0 and not self._stopping:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)
                except TimeoutError:
                    pass

    async def drain(self) -> float:
        """One round: send what may be sent now. Returns seconds until the next useful round."""
        platforms = list(self.adapters)
        if not platforms:
            return 60.0
        now = self.clock.now()
        async with self.db.connect() as conn:
            rows = await outbox.due(conn, platforms, now)
            upcoming = None if rows else await outbox.next_due(conn, platforms, after=now)
        if not rows:
            return min(5.0, (upcoming - now).total_seconds()) if upcoming else 5.0
        by_target: dict[str, list[outbox.Pending]] = {}
        for row in rows:
            by_target.setdefault(row.target, []).append(row)
        tick = self._ticks()
        wait, jobs = 5.0, []
        for target, queue in by_target.items():
            limiter = self.limiters[queue[0].platform]
            w = limiter.wait_time(target, tick)
            if w > 0:
                wait = min(wait, w)
                continue
            limiter.take(target, tick)
            jobs.append(self._send(queue))
        await asyncio.gather(*jobs)
        return 0.0 if jobs else wait

    def _mergeable(self, row: outbox.Pending) -> bool:
        a = row.action
        return (
            isinstance(a, act.SendMessage)
            and not a.buttons
            and not a.delete_after
            and row.attempts == 0
            and row.merged_into is None
            and row.id not in self._unsure
            # a platform may keep some messages apart (Discord: answers to one member's command)
            and getattr(self.adapters[row.platform], "mergeable", lambda _action: True)(a)
        )

    def _batch(self, queue: list[outbox.Pending]) -> list[outbox.Pending]:
        """The first row, or several mergeable plain messages when the chat is backlogged."""
        if len(queue) < self.coalesce_after:
            return queue[:1]
        merged, length = [], 0
        for row in queue:
            if not self._mergeable(row):
                break
            length += len(row.action.content) + 2  # type: ignore[union-attr]
            if merged and length > MAX_MERGED_LENGTH:
                break
            merged.append(row)
        return merged or queue[:1]

    async def _rows(self, queue: list[outbox.Pending]) -> list[outbox.Pending]:
        """What goes out next to a chat: a merge decided earlier, or a batch decided (and written) now."""
        head = queue[0]
        if head.merged_into is not None:
            async with self.db.connect() as conn:
                return await outbox.merged_group(conn, head.merged_into) or queue[:1]
        rows = self._batch(queue)
        if len(rows) > 1:
            async with self._writes, self.db.begin() as conn:
                await outbox.mark_merged(conn, [r.id for r in rows])
            rows = [replace(r, merged_into=rows[0].id) for r in rows]
        return rows

    async def _send(self, queue: list[outbox.Pending]) -> None:
        rows = await self._rows(queue)
        first = rows[0]
        action = first.action
        key = f"outbox:{first.id}"
        if len(rows) > 1 and isinstance(action, act.SendMessage):
            text = "\n\n".join(r.action.content for r in rows)  # type: ignore[union-attr]
            action = replace(action, content=text, reply_to=None)
            key = f"outbox:{first.id}-{rows[-1].id}"
        adapter = self.adapters[first.platform]
        ids = [r.id for r in rows]
        async with self._slots:
            try:
                result = await adapter.perform(action, key)
            except TemporaryError as err:
                await self._retry(rows, err.retry_after, str(err), counted=not err.not_sent)
                return
            except PermanentError as err:
                log.warning("permanent failure of outbox %s to %s: %s", ids, first.target, err)
                async with self._writes, self.db.begin() as conn:
                    await outbox.mark_failed(conn, ids, str(err))
                    await followups.after_failed(conn, action, self.clock.now(), first.platform)
                self._unsure.difference_update(ids)
                return
            except Exception as err:  # an adapter bug or an unexpected network error
                log.exception("unexpected failure sending outbox %s", ids)
                await self._retry(rows, None, f"{type(err).__name__}")
                return
        try:
            await self._done(rows, action, result)
        except BaseException:  # sent but not marked: it is tried again, and never merged anew
            self._unsure.update(ids)
            raise
        self._unsure.difference_update(ids)

    async def _done(self, rows: list[outbox.Pending], action: act.Action, result: SendResult) -> None:
        now = self.clock.now()
        async with self._writes, self.db.begin() as conn:
            await outbox.mark_sent(conn, [r.id for r in rows], now, result.message_id)
            after = getattr(action, "delete_after", None)
            if after and result.message_id and isinstance(action, act.SendMessage):
                delete = act.DeleteMessage(action.chat, result.message_id)
                row = outbox.outbox_row(delete, None, now, not_before=now + timedelta(seconds=after))
                await conn.execute(outbox.outbox_t.insert(), [row])
            await followups.after_sent(conn, action, result, now, rows[0].platform)
        self.sent += len(rows)

    async def _retry(
        self, rows: list[outbox.Pending], retry_after: float | None, error: str, *, counted: bool = True
    ) -> None:
        row = rows[0]
        if retry_after is not None:
            delay = retry_after
        else:
            delay = min(300.0, 2.0**row.attempts) if counted else NOT_SENT_WAIT
        if retry_after:
            self.limiters[row.platform].chat(row.target).pause(self._ticks(), retry_after)
        log.info("outbox %s to %s will be retried in %.1fs: %s", row.id, row.target, delay, error)
        async with self._writes, self.db.begin() as conn:
            await outbox.mark_retry(conn, row, self.clock.now(), delay, error, [r.id for r in rows], counted=counted)
            if counted and row.attempts + 1 >= outbox.MAX_ATTEMPTS:  # that was the last try
                await followups.after_failed(conn, row.action, self.clock.now(), row.platform)
