"""What the sender does after an action that carries a follow-up, in the same transaction
that marks the action sent or failed.

- ``CreateInviteLink(..., notify=...)``: the platform answers with the link
  (``SendResult.data["link"]``); it is stored (:mod:`storage.invites`) and ``notify`` (a
  dumped ``SendMessage``/``SendDirect`` whose content may hold the literal ``{link}``) is
  queued with the link filled in. Campaigns never wait for a platform: they say what to
  send once the link exists.
- ``fallback`` (on ``SendDirect`` and ``CreateInviteLink``): queued instead when the action
  failed for good (the member cannot be messaged privately, the bot may not invite).
- ``SendPoll``: votes on a native poll come back under the platform's poll id, and the poll
  campaign finds its round through the send's outbox row. Where the platform's poll id is not
  the message id (Telegram: ``SendResult.data["poll_id"]``), the row keeps the poll id.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.base import SendResult
from bot import actions as act
from bot.outbox import outbox_row, outbox_t
from storage import invites

log = logging.getLogger(__name__)
LINK = "{link}"


async def _queue(conn: AsyncConnection, data: dict, now: datetime, platform: str) -> None:
    try:
        action = act.load(data)
    except (KeyError, TypeError, ValueError):
        log.warning("a follow-up action could not be read; dropped")
        return
    await conn.execute(outbox_t.insert(), [outbox_row(action, None, now, platform=platform)])


async def after_sent(
    conn: AsyncConnection, action: act.Action, result: SendResult, now: datetime, platform: str
) -> None:
    if isinstance(action, act.SendPoll):
        await _keep_poll_id(conn, action, result, platform)
        return
    if not isinstance(action, act.CreateInviteLink):
        return
    link = (result.data or {}).get("link")
    if not isinstance(link, str) or not link:
        log.warning("the platform made no invite link for %s", action.for_user)
        await after_failed(conn, action, now, platform)
        return
    await invites.record(conn, action.chat, action.for_user, link, now)
    if action.notify:
        data = dict(action.notify)
        if isinstance(data.get("content"), str):
            data["content"] = data["content"].replace(LINK, link)
        await _queue(conn, data, now, platform)


async def _keep_poll_id(conn: AsyncConnection, action: act.SendPoll, result: SendResult, platform: str) -> None:
    """Make the send's outbox row (just marked sent with the message id) name the poll id."""
    poll_id = (result.data or {}).get("poll_id")
    if not isinstance(poll_id, str) or not poll_id or not result.message_id or poll_id == result.message_id:
        return
    c = outbox_t.c
    await conn.execute(
        update(outbox_t)
        .where(
            c.platform == platform,
            c.action == "send_poll",
            c.target == action.chat,
            c.platform_message_id == result.message_id,
        )
        .values(platform_message_id=poll_id)
    )


async def after_failed(conn: AsyncConnection, action: act.Action, now: datetime, platform: str) -> None:
    fallback = getattr(action, "fallback", None)
    if fallback:
        await _queue(conn, dict(fallback), now, platform)
