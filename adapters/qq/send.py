"""Outbox actions → QQ API calls, within the platform's reply windows.

A message answering something a member did (its ``cause``: the Hearth event id of the message,
join or click) goes out as a passive reply carrying that ``msg_id`` or ``event_id`` and a
``msg_seq`` unique per window, at most 5 per window and within 5 minutes (60 for private chats).
Anything else goes out proactively where the group allows it; where it does not, the action
fails for good with the reason (recorded by the sender as undeliverable, never retried).
"""

from __future__ import annotations

from datetime import timedelta

from adapters.base import PermanentError, SendResult
from adapters.qq.api import QQApi
from adapters.qq.decode import PLATFORM
from adapters.qq.encode import message_body
from adapters.qq.errors import DUPLICATE_SEQ, NO_PROACTIVE, QQApiError, Scrubber, classify
from adapters.qq.settings import QQSettings
from adapters.qq.store import MAX_REPLIES, QQStore
from bot import actions as act
from bot.clock import Clock
from bot.events import split_key

GROUP_WINDOW = timedelta(minutes=5)
C2C_WINDOW = timedelta(minutes=60)
SAFETY = timedelta(seconds=10)  # a reply that would arrive at the edge of the window is not tried


class Performer:
    def __init__(self, api: QQApi, store: QQStore, settings: QQSettings, clock: Clock, scrub: Scrubber) -> None:
        self.api = api
        self.store = store
        self.settings = settings
        self.clock = clock
        self.scrub = scrub

    async def perform(self, action: act.Action, key: str) -> SendResult:
        if isinstance(action, act.SendMessage):
            return await self._group(action, key)
        if isinstance(action, act.SendDirect):
            return await self._direct(action, key)
        if isinstance(action, act.AnswerButton):
            return SendResult()  # acknowledged on arrival (PUT /interactions); QQ shows no answer text
        raise PermanentError(f"the official QQ bot platform cannot {action.kind.replace('_', ' ')}")

    async def _group(self, action: act.SendMessage, key: str) -> SendResult:
        group = _openid(action.chat)
        now = self.clock.now()
        state = await self.store.group(group)
        if state.present is False:
            raise PermanentError(f"the bot was removed from QQ group {group}")
        reply, why = None, "it answers no member message (a scheduled or proactive post)"
        if action.cause is not None:
            window = await self.store.window(action.cause)
            if window is None or window.scope != "group" or window.target != group:
                why = "the message it answers is unknown in this group"
            elif now >= window.opened_at + GROUP_WINDOW - SAFETY:
                why = "the 5-minute reply window of the message it answers has closed"
            elif (seq := await self.store.seq_for(window.ref, key)) is None:
                why = f"the message it answers already had its {MAX_REPLIES} replies"
            else:
                reply = (window.param, window.value, seq)
        if reply is None and state.proactive is False:
            raise PermanentError(f"not delivered: {why}, and QQ group {group} does not allow proactive messages")
        body = self._body(action.content, action.buttons, reply)
        try:
            data = await self.api.call("POST", f"/v2/groups/{group}/messages", body)
        except QQApiError as err:
            if err.code == DUPLICATE_SEQ and reply is not None:
                return SendResult()  # this msg_seq went out before a crash: done
            if err.code == NO_PROACTIVE and reply is None:
                await self.store.refuse_proactive(group, now)
                raise PermanentError(
                    f"not delivered: {why}, and QQ group {group} does not allow proactive messages "
                    f"(platform code {NO_PROACTIVE})"
                ) from None
            raise classify(err, self.scrub) from None
        except Exception as err:
            raise classify(err, self.scrub) from None
        return SendResult(message_id=_id(data))

    async def _direct(self, action: act.SendDirect, key: str) -> SendResult:
        openid = _openid(action.user)
        now = self.clock.now()
        users = await self.store.private_ids(openid)
        window = await self.store.latest_c2c(users, now - C2C_WINDOW + SAFETY)
        if window is None:
            raise PermanentError(
                "not delivered: QQ allows a direct message only as a reply within 60 minutes of the "
                "member's own private message to the bot, and there is none"
            )
        seq = await self.store.seq_for(window.ref, key)
        if seq is None:
            raise PermanentError(f"not delivered: the member's last private message already had {MAX_REPLIES} replies")
        body = self._body(action.content, action.buttons, (window.param, window.value, seq))
        try:
            data = await self.api.call("POST", f"/v2/users/{window.target}/messages", body)
        except QQApiError as err:
            if err.code == DUPLICATE_SEQ:
                return SendResult()
            raise classify(err, self.scrub) from None
        except Exception as err:
            raise classify(err, self.scrub) from None
        return SendResult(message_id=_id(data))

    async def acknowledge(self, interaction: str) -> None:
        """``PUT /interactions/{id}`` with code 0, so the member's client stops spinning."""
        await self.api.call("PUT", f"/interactions/{interaction}", {"code": 0})

    def _body(self, content: str, buttons: act.Buttons, reply: tuple[str, str, int] | None) -> dict:
        s = self.settings
        return message_body(content, buttons, markdown=s.markdown, use_keyboard=s.keyboard, reply=reply)


def _openid(key: str) -> str:
    platform, ident = split_key(key)
    if platform != PLATFORM:
        raise PermanentError(f"{key} is not a QQ chat or member")
    return ident


def _id(data: dict) -> str | None:
    value = data.get("id")
    return str(value) if value is not None else None
