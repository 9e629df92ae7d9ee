"""Carrying out one outbox action on Telegram: encode, call, map errors, remember what came back.

* Chats the bot is out of (``chats.active`` false) are refused with :class:`PermanentError`
  before any call: the sender records the row as failed, ``hearth stats`` shows it, and
  nothing is retried into a chat that would answer 403. Re-adding the bot clears the mark.
* A chat that moved to a supergroup is written to at its new id; if Telegram reports the
  move first (``TelegramMigrateToChat``), the chat is re-keyed and the call retried once.
* Multi-call actions (long messages, kick = ban + unban) remember their finished steps per
  idempotency key, so a retry after a 429 on step two does not repeat step one.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramMigrateToChat
from aiogram.methods import TelegramMethod
from aiogram.types import ChatInviteLink, Message

from adapters.base import PermanentError, SendResult
from adapters.telegram.callbacks import CallbackAnswers
from adapters.telegram.decode import chat_key
from adapters.telegram.encode import callback_token, encode, long_callback_data, telegram_id
from adapters.telegram.errors import Scrubber, already_done, callback_expired, chat_is_gone, classify
from adapters.telegram.store import TelegramStore
from bot import actions as act
from bot.clock import Clock

log = logging.getLogger(__name__)
PROGRESS_KEPT = 1000
Migrate = Callable[[str, str], Awaitable[Any]]


def chat_of(action: act.Action) -> str | None:
    """The chat an action writes to (a direct message's chat is the member's private chat)."""
    if isinstance(action, act.SendDirect):
        return action.user
    return getattr(action, "chat", None)


class Performer:
    def __init__(
        self,
        bot: Bot,
        store: TelegramStore,
        callbacks: CallbackAnswers,
        scrub: Scrubber,
        clock: Clock,
        migrate: Migrate,
    ) -> None:
        self.bot = bot
        self.store = store
        self.callbacks = callbacks
        self.scrub = scrub
        self.clock = clock
        self.migrate = migrate
        self._progress: OrderedDict[str, list[Any]] = OrderedDict()

    async def perform(self, action: act.Action, key: str) -> SendResult:
        if isinstance(action, act.AnswerButton):
            return await self._answer(action)
        chat = chat_of(action)
        if chat is not None and hasattr(action, "chat"):
            moved = self.store.redirect(chat)
            if moved != chat:
                action = replace(action, chat=moved)  # type: ignore[call-arg]
                chat = moved
        if chat is not None and chat in self.store.inactive:
            raise PermanentError(f"the bot is not in {chat} any more (removed or blocked); not sent")
        if isinstance(action, act.CreateInviteLink):
            known = await self.store.link_for(action.chat, action.for_user)
            if known is not None:
                return SendResult(data={"link": known})
        tokens = {callback_token(d): d for d in long_callback_data(action)}
        await self.store.remember_callback_data(tokens)
        try:
            results = await self._run(action, key)
        except TelegramMigrateToChat as err:
            if chat is None or not hasattr(action, "chat"):
                raise classify(err, self.scrub) from None
            new = chat_key(err.migrate_to_chat_id)
            await self.migrate(chat, new)
            self._progress.pop(key, None)
            action = replace(action, chat=new)  # type: ignore[call-arg]
            try:
                results = await self._run(action, key)
            except TelegramMigrateToChat as again:
                raise classify(again, self.scrub) from None
        return await self._result(action, results)

    async def _run(self, action: act.Action, key: str) -> list[Any]:
        methods = encode(action, self.clock.now())
        done = self._progress.pop(key, [])
        for method in methods[len(done) :]:
            try:
                done.append(await self._call(method, action))
            except BaseException:
                if done:
                    self._progress[key] = done
                    while len(self._progress) > PROGRESS_KEPT:
                        self._progress.popitem(last=False)
                raise
        return done

    async def _call(self, method: TelegramMethod, action: act.Action) -> Any:
        try:
            return await self.bot(method)
        except TelegramMigrateToChat:
            raise
        except Exception as err:
            if already_done(err):
                return None
            chat = chat_of(action)
            if chat is not None and chat_is_gone(err):
                await self.store.set_active(chat, False, self.clock.now())
                log.warning("the bot is out of %s: %s", chat, self.scrub(getattr(err, "message", err)))
            raise classify(err, self.scrub) from None

    async def _result(self, action: act.Action, results: list[Any]) -> SendResult:
        last = results[-1] if results else None
        if isinstance(action, act.SendPoll) and isinstance(last, Message) and last.poll is not None:
            await self.store.remember_poll(last.poll.id, action.chat)
            return SendResult(message_id=str(last.message_id), data={"poll_id": last.poll.id})
        if isinstance(action, act.CreateInviteLink) and isinstance(last, ChatInviteLink):
            await self.store.remember_link(action.chat, action.for_user, last.invite_link)
            return SendResult(data={"link": last.invite_link, "name": last.name})
        if isinstance(last, Message):
            return SendResult(message_id=str(last.message_id))
        return SendResult()

    async def _answer(self, action: act.AnswerButton) -> SendResult:
        if not self.callbacks.claim(action.callback_id):
            return SendResult()  # already answered (by the fallback, or a duplicate action)
        answered = False
        try:
            await self._call(encode(action, self.clock.now())[0], action)
            answered = True
        except PermanentError:
            answered = True  # too old or invalid: it can never be answered now
        finally:
            self.callbacks.release(action.callback_id, answered)
        return SendResult()

    async def answer_empty(self, callback_id: str) -> None:
        """The fallback answer for a press no campaign answered (errors are the caller's)."""
        try:
            await self.bot.answer_callback_query(callback_query_id=callback_id)
        except Exception as err:
            if not callback_expired(err):
                raise classify(err, self.scrub) from None


def private_chat(key: str) -> bool:
    """Telegram private chats have positive ids (the user's id); groups negative ones."""
    try:
        return telegram_id(key) > 0
    except PermanentError:
        return False
