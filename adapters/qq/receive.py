"""One path for every dispatch, whether it came by webhook or gateway: decode, remember, commit.

The adapter's own state (reply window, group change, union_openid) and the event (through the
engine's :class:`EventSink`) are both committed before this returns, so the caller may then
acknowledge (``op`` 12, or the gateway's seq). A button click is acknowledged on the platform
(``PUT /interactions/{id}``) at once after that, in the background, so the member's client
stops spinning whatever the campaigns do.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.base import EventSink
from adapters.qq.decode import decode
from adapters.qq.errors import Scrubber
from adapters.qq.store import QQStore
from bot.clock import Clock

log = logging.getLogger(__name__)
RECENT = 4096  # event ids committed lately: a repeat (AT + full-message copy) skips the engine


class Receiver:
    def __init__(
        self,
        self_id: str,
        sink: EventSink,
        store: QQStore,
        clock: Clock,
        acknowledge: Callable[[str], Awaitable[None]],
        scrub: Scrubber,
    ) -> None:
        self.self_id = self_id
        self.sink = sink
        self.store = store
        self.clock = clock
        self._acknowledge = acknowledge
        self.scrub = scrub
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._acks: set[asyncio.Task[None]] = set()
        self.accepted = 0
        self.ignored = 0
        self.repeats = 0

    async def dispatch(self, payload: Any) -> None:
        """Handle one ``op`` 0 payload; raises only if it could not be committed (redeliver it)."""
        inc = decode(payload, self.self_id, self.clock.now())
        if inc is None:
            self.ignored += 1
            kind = payload.get("t") if isinstance(payload, dict) else None
            log.debug("QQ dispatch %s not handled", kind if isinstance(kind, str) else "?")
            return
        event = inc.event
        if event is not None and event.id in self._recent:
            self.repeats += 1  # already committed (the engine would dedup it too)
            return
        await self.store.remember(inc)
        if event is not None:
            await self.sink.submit([event])
            self._recent[event.id] = None
            if len(self._recent) > RECENT:
                self._recent.popitem(last=False)
        self.accepted += 1
        if inc.interaction is not None:
            task = asyncio.create_task(self._ack(inc.interaction), name="qq-interaction-ack")
            self._acks.add(task)
            task.add_done_callback(self._acks.discard)

    async def _ack(self, interaction: str) -> None:
        try:
            await self._acknowledge(interaction)
        except Exception as err:
            log.warning("could not acknowledge QQ interaction %s: %s", interaction, self.scrub(err))

    async def drain(self) -> None:
        """Wait for acknowledgements in flight (on stop)."""
        if self._acks:
            await asyncio.gather(*list(self._acks), return_exceptions=True)
