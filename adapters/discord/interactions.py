"""Discord's 3-second deadline: every interaction is acknowledged the moment it arrives.

Before the event is even stored, a slash command gets a *deferred reply* (Discord shows
"Hearth is thinking…", privately when the command's answer is private, ``/me``) and a button
press a *deferred update* (no visible change). The engine's answer then arrives through the
outbox like any message: the first part fills in the deferred reply, later parts and
:class:`~bot.actions.AnswerButton` texts are follow-ups (private for button answers).
Discord accepts these for 15 minutes, using the interaction's token, which is kept in
memory only.

A command that left nothing in the outbox ``answer_after`` after its commit (no campaign
answered it, or its answer failed for good) has its "thinking…" removed; while its answer
still waits in the outbox (a backlog), it is left alone. A command in a channel Hearth does
not work in is answered at once, privately, with the channels where it does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import discord

from adapters.discord import encode as enc
from adapters.discord.errors import Scrub, description
from bot.events import Event, EventKind

log = logging.getLogger(__name__)
TOKEN_LIFETIME = 15 * 60.0  # seconds Discord accepts follow-ups
ACK_WAIT = 10.0  # longest a reply waits for its interaction's acknowledgement
DEFERRED_REPLY, DEFERRED_UPDATE, REPLY = 5, 6, 4
Call = Callable[[enc.Request], Awaitable[Any]]
Owed = Callable[[str], Awaitable[bool]]  # interaction id -> does the outbox still hold its answer?


class Expired(Exception):
    """The interaction can no longer be answered (unknown, too old, or never acknowledged)."""


@dataclass(slots=True)
class Pending:
    id: str
    token: str
    private: bool
    command: bool  # a slash command (deferred reply) rather than a button press (deferred update)
    acked: asyncio.Future[bool] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    original: bool = False  # the deferred reply was filled in (or removed)
    at: float = field(default_factory=time.monotonic)


class Interactions:
    def __init__(self, call: Call, application_id: str, answer_after: float, scrub: Scrub, owed: Owed) -> None:
        self.call = call
        self.owed = owed
        self.application_id = application_id
        self.answer_after = answer_after
        self.scrub = scrub
        self.pending: dict[str, Pending] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self.late = 0  # acknowledgements Discord refused (too late or already answered)

    # --- on arrival ----------------------------------------------------------------------------

    def begin(self, d: Mapping[str, Any], event: Event | None, private: bool, elsewhere: str) -> None:
        """Acknowledge an ``INTERACTION_CREATE`` now (in the background); ``event`` is what it
        decoded to (None: not for Hearth here), ``elsewhere`` the answer for a wrong channel."""
        ident, token = str(d.get("id", "")), str(d.get("token", ""))
        if not ident or not token or d.get("type") not in (2, 3):
            return
        command = d.get("type") == 2
        if event is None:
            data = {"content": elsewhere, "flags": enc.EPHEMERAL, "allowed_mentions": enc.NO_PINGS}
            kind = REPLY if command else DEFERRED_UPDATE
            request = enc.callback(ident, token, kind, data if command else None)
            self._spawn(self._send_ack(None, request))
            return
        pending = Pending(ident, token, private and command, command)
        self.pending[ident] = pending
        if command:
            request = enc.callback(ident, token, DEFERRED_REPLY, {"flags": enc.EPHEMERAL} if pending.private else None)
        else:
            request = enc.callback(ident, token, DEFERRED_UPDATE)
        self._spawn(self._send_ack(pending, request))
        self._later(TOKEN_LIFETIME, lambda: self.pending.pop(ident, None))

    async def _send_ack(self, pending: Pending | None, request: enc.Request) -> None:
        ok = False
        try:
            await self.call(request)
            ok = True
        except Exception as err:
            self.late += 1
            log.warning("could not acknowledge interaction %s: %s", request.params.get("webhook_id"), self._why(err))
        if pending is not None and not pending.acked.done():
            pending.acked.set_result(ok)

    def committed(self, events: Iterable[Event]) -> None:
        """These slash commands are stored: clear their "thinking…" if nobody answers."""
        for event in events:
            if event.kind is EventKind.COMMAND_INVOKED and event.message_id:
                ident = event.message_id.removeprefix("interaction:")
                if ident in self.pending:
                    self._later(self.answer_after, lambda i=ident: self._spawn(self._unanswered(i)))

    async def _unanswered(self, ident: str) -> None:
        pending = self.pending.get(ident)
        if pending is None or pending.original or not await self._acked(pending):
            return
        try:
            owed = await self.owed(ident)
        except Exception as err:
            log.info("could not look for the answer to %s: %s", ident, type(err).__name__)
            owed = True
        if owed:  # the answer is on its way: look again later (the token lasts 15 minutes)
            self._later(self.answer_after, lambda: self._spawn(self._unanswered(ident)))
            return
        if pending.original:
            return
        pending.original = True
        try:
            await self.call(enc.delete_original(self.application_id, pending.token))
        except Exception as err:
            log.info("could not clear the unanswered command %s: %s", ident, self._why(err))

    # --- answers (from the performer) ------------------------------------------------------------

    def known(self, ident: str) -> Pending | None:
        return self.pending.get(ident)

    async def reply(self, ident: str, body: dict[str, Any]) -> dict[str, Any]:
        """Post one part of an answer: into the deferred reply first, then as follow-ups.
        Raises :class:`Expired` when the interaction cannot be answered any more."""
        pending = self.pending.get(ident)
        if pending is None or not await self._acked(pending):
            raise Expired(ident)
        app, token = self.application_id, pending.token
        if pending.command and not pending.original:
            pending.original = True
            try:
                return await self.call(enc.edit_original(app, token, body))
            except discord.NotFound:
                pass  # removed as unanswered meanwhile: follow up instead
            except BaseException:
                pending.original = False
                raise
        return await self.call(enc.followup(app, token, body, pending.private))

    async def answer_button(self, ident: str, text: str) -> None:
        """A campaign's answer to a press: a private follow-up (Discord has no toasts)."""
        pending = self.pending.get(ident)
        if not text or pending is None or not await self._acked(pending):
            return
        body = {"content": enc.split_content(text)[0], "allowed_mentions": enc.NO_PINGS}
        await self.call(enc.followup(self.application_id, pending.token, body, private=True))

    # --- plumbing -------------------------------------------------------------------------------

    async def _acked(self, pending: Pending) -> bool:
        try:
            return await asyncio.wait_for(asyncio.shield(pending.acked), ACK_WAIT)
        except TimeoutError:
            return False

    def _why(self, err: BaseException) -> str:
        return description(err, self.scrub)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        if self._closed:
            coro.close()
            return
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _later(self, delay: float, what: Callable[[], Any]) -> None:
        asyncio.get_running_loop().call_later(delay, what)  # after stop, timers find nothing to do

    async def stop(self) -> None:
        self._closed = True
        await asyncio.gather(*self._tasks, return_exceptions=True)
