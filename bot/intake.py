"""The engine's intake: adapters submit events and wait until they are committed.

Submissions queue up while the engine is busy with the previous batch; the next batch takes
everything waiting (up to ``max_batch``) into one transaction. Under load this is group
commit; when idle each event commits on its own right away.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bot.engine import Engine
from bot.events import Event

log = logging.getLogger(__name__)


class Intake:
    """The :class:`adapters.base.EventSink` in front of the engine (group commit)."""

    def __init__(self, engine: Engine, max_batch: int = 500) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Sequence[Event], asyncio.Future[None]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._inflight: list[asyncio.Future[None]] = []  # the submitters of the batch being handled

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="hearth-intake")

    async def stop(self) -> None:
        """Stop; submitters still waiting get ``CancelledError`` (a redelivery is harmless)."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        while not self._queue.empty():
            self._queue.get_nowait()[1].cancel()
        for future in self._inflight:
            future.cancel()
        self._inflight = []

    async def submit(self, events: Sequence[Event]) -> None:
        """Queue events and return once they are committed (the EventSink protocol)."""
        if not events:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((events, future))
        await future

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            waiting = [first]
            size = len(first[0])
            while size < self.max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                waiting.append(item)
                size += len(item[0])
            batch = [e for events, _ in waiting for e in events]
            self._inflight = [fut for _, fut in waiting]
            try:
                await self.engine.handle(batch)
            except Exception as err:  # the database itself is failing: let submitters retry
                log.exception("could not commit a batch of %d events", len(batch))
                for _, fut in waiting:
                    if not fut.done():
                        fut.set_exception(err)
                continue
            for _, fut in waiting:
                if not fut.done():
                    fut.set_result(None)
