"""Every button press gets its ``answerCallbackQuery``, exactly once, within Telegram's deadline.

Campaigns may answer a press themselves (``AnswerButton`` with a toast text), through the
outbox like any action. When none has done so ``answer_after`` seconds after the press was
committed, this module answers it empty so the member's spinner stops. An ``AnswerButton``
that arrives after that finds the press answered and is a no-op.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable

log = logging.getLogger(__name__)
REMEMBERED = 20_000
Answer = Callable[[str], Awaitable[None]]


class CallbackAnswers:
    def __init__(self, answer: Answer, answer_after: float) -> None:
        self._answer = answer
        self.answer_after = answer_after
        self._due: list[tuple[float, str]] = []
        self._answered: OrderedDict[str, None] = OrderedDict()
        self._claimed: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._answering: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="telegram-callback-answers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, *self._answering, return_exceptions=True)
            self._task = None

    def committed(self, callback_ids: Iterable[str]) -> None:
        """These presses are committed: answer them empty unless a campaign does first."""
        deadline = time.monotonic() + self.answer_after
        for cid in callback_ids:
            if cid not in self._answered:
                heapq.heappush(self._due, (deadline, cid))
        self._wake.set()

    def claim(self, callback_id: str) -> bool:
        """Reserve the one answer of a press; False if it was answered (or is being answered)."""
        if callback_id in self._answered or callback_id in self._claimed:
            return False
        self._claimed.add(callback_id)
        return True

    def release(self, callback_id: str, answered: bool) -> None:
        """End a claim: answered for good, or given back (the answer failed and may be retried)."""
        self._claimed.discard(callback_id)
        if answered:
            self._answered[callback_id] = None
            while len(self._answered) > REMEMBERED:
                self._answered.popitem(last=False)

    async def _run(self) -> None:
        while True:
            if not self._due:
                self._wake.clear()
                await self._wake.wait()
                continue
            deadline, cid = self._due[0]
            wait = deadline - time.monotonic()
            if wait > 0:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)
                except TimeoutError:
                    pass
                continue
            heapq.heappop(self._due)
            if self.claim(cid):
                task = asyncio.create_task(self._fallback(cid))
                self._answering.add(task)
                task.add_done_callback(self._answering.discard)

    async def _fallback(self, callback_id: str) -> None:
        try:
            await self._answer(callback_id)
        except Exception as err:  # too old, network: the press cannot be answered any more
            log.info("could not answer button press %s: %s", callback_id, type(err).__name__)
        self.release(callback_id, answered=True)
