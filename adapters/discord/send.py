"""Carrying out one outbox action on Discord: encode, call, map errors, remember what came back.

* An answer to a slash command (``reply_to`` = ``interaction:<id>``) goes through the
  interaction (:mod:`.interactions`). If the interaction can no longer be answered (a restart
  lost its token, or it is older than 15 minutes), a public answer is posted to the channel
  instead; a private one (or one whose interaction the process no longer knows, after a
  restart) is not posted at all (a permanent error, recorded).
* Direct messages open (and remember) the member's DM channel first.
* A per-member invite is created once per member and channel (``max_age`` 0, ``unique``) and
  remembered both ways, so a join through it is credited to the member.
* Multi-call actions (long messages) remember their finished parts per idempotency key, so a
  retry after a failure on part two does not post part one again.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from adapters.base import PermanentError, SendResult
from adapters.discord import encode as enc
from adapters.discord.decode import INTERACTION
from adapters.discord.errors import Scrub, classify, gone
from adapters.discord.interactions import Expired, Interactions
from adapters.discord.invites import InviteTracker
from bot import actions as act
from bot.clock import Clock
from storage.adapter_state import StateCache

log = logging.getLogger(__name__)
PROGRESS_KEPT = 1000
Call = Callable[[enc.Request], Awaitable[Any]]


class Performer:
    def __init__(
        self,
        call: Call,
        state: StateCache,
        interactions: Interactions,
        invites: InviteTracker,
        guild_of: dict[str, str],
        clock: Clock,
        scrub: Scrub,
    ) -> None:
        self.call = call
        self.state = state
        self.interactions = interactions
        self.invites = invites
        self.guild_of = guild_of
        self.clock = clock
        self.scrub = scrub
        self.dm_channels: dict[str, str] = {}
        self._progress: OrderedDict[str, int] = OrderedDict()

    async def perform(self, action: act.Action, key: str) -> SendResult:
        try:
            return await self._perform(action, key)
        except PermanentError:
            raise
        except Exception as err:
            raise classify(err, self.scrub) from None

    async def _perform(self, action: act.Action, key: str) -> SendResult:
        if isinstance(action, act.AnswerButton):
            await self.interactions.answer_button(action.callback_id, action.text)
            return SendResult()
        if isinstance(action, act.SendMessage | act.SendDirect):
            await self.state.put({f"cb:{t}": d for t, d in enc.long_button_data(action.buttons).items()})
        if isinstance(action, act.SendMessage) and (action.reply_to or "").startswith(INTERACTION):
            return await self._answer(action, key)
        if isinstance(action, act.SendDirect):
            channel = await self._dm_channel(action.user)
            return await self._parts(key, [enc.post(channel, b) for b in enc.bodies(action.content, action.buttons)])
        if isinstance(action, act.CreateInviteLink):
            return await self._invite(action)
        requests = enc.encode(action, self.guild_of, self.clock.now())
        if isinstance(action, act.DeleteMessage):
            for request in requests:
                await self._tolerant(request)
            return SendResult()
        return await self._parts(key, requests)

    async def _parts(self, key: str, requests: list[enc.Request]) -> SendResult:
        return await self._steps(key, [partial(self.call, r) for r in requests])

    async def _steps(self, key: str, steps: list[Callable[[], Awaitable[Any]]]) -> SendResult:
        """Run in order, skipping the steps an earlier try of ``key`` already finished."""
        done = self._progress.pop(key, 0)
        last: Any = None
        for i, step in enumerate(steps[done:], start=done):
            try:
                last = await step()
            except BaseException:
                if i:
                    self._progress[key] = i
                    while len(self._progress) > PROGRESS_KEPT:
                        self._progress.popitem(last=False)
                raise
        return SendResult(message_id=_id_of(last))

    async def _tolerant(self, request: enc.Request) -> None:
        try:
            await self.call(request)
        except Exception as err:
            if not gone(err):  # already deleted: the goal is met
                raise

    async def _answer(self, action: act.SendMessage, key: str) -> SendResult:
        ident = (action.reply_to or "").removeprefix(INTERACTION)
        pending = self.interactions.known(ident)
        bodies = enc.bodies(action.content, action.buttons)
        try:
            return await self._steps(key, [partial(self.interactions.reply, ident, b) for b in bodies])
        except Expired:
            if pending is None or pending.private:  # unknown after a restart: it may have been private
                raise PermanentError("the command's interaction expired; its answer is not posted publicly") from None
        log.info("interaction %s cannot be answered any more; answering in the channel", ident)
        channel = enc.snowflake(action.chat)
        return await self._parts(key, [enc.post(channel, b) for b in bodies])  # the parts not yet answered

    async def _dm_channel(self, user: str) -> str:
        channel = self.dm_channels.get(user)
        if channel is None:
            opened = await self.call(enc.open_dm(user))
            channel = self.dm_channels[user] = str(opened["id"])
        return channel

    async def _invite(self, action: act.CreateInviteLink) -> SendResult:
        known = await self.state.get(f"link:{action.chat}:{action.for_user}")
        if known is not None:
            return SendResult(data={"link": known})
        [request] = enc.encode(action, self.guild_of, self.clock.now())
        made = await self.call(request)
        code = str(made["code"])
        link = enc.INVITE_URL.format(code=code)
        await self.state.put({f"link:{action.chat}:{action.for_user}": link, f"invite:{code}": action.for_user})
        guild = self.guild_of.get(enc.snowflake(action.chat))
        if guild is not None:
            self.invites.remember(guild, made)
        return SendResult(data={"link": link, "code": code})


def _id_of(result: Any) -> str | None:
    if isinstance(result, dict) and result.get("id") is not None:
        return str(result["id"])
    return None
