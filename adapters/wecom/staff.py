"""Staff's command in the app chat: ``/joinway CAMPAIGN [REFERRER]`` makes a per-referrer QR code.

Customer groups carry no app chat, but corp members can message the self-built app, and
WeCom delivers their texts through the same encrypted callback (``MsgType`` text,
``FromUserName`` the userid, ``AgentID``). A text to the app ``agent_id`` names is stored
(its ``MsgId`` unique, so WeCom's retries are no-ops) before WeCom gets ``success``; it is
answered afterwards, through ``message/send``, in steps each recorded before the next:

1. ``pending``: the answer is composed. For a staff member's well-formed ``/joinway`` this
   makes the join way, with the same checks as ``hearth wecom join-way create``
   (:func:`adapters.wecom.joinways.plan`); anyone not in ``staff`` gets a short refusal,
   anything else the usage line. Answer and join way are recorded: ``made``.
2. ``made``: the text (with the QR code's URL) is sent: ``answered``. A crash before this is
   recorded resends it; for a join way WeCom's duplicate check drops the repeat (a usage line
   or refusal may then arrive twice; the check would also drop a second identical one asked
   for on purpose).
3. ``answered``: the QR image is uploaded (``media/upload``) and sent: ``done``. The image is
   a courtesy: if it cannot be fetched or sent, the URL already went out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.base import PermanentError, TemporaryError
from adapters.wecom.api import WeComClient
from adapters.wecom.decode import AppText
from adapters.wecom.joinways import JoinWay, JoinWays, check_referrer, plan
from bot.clock import Clock
from storage.sql import ignore_statement
from storage.wecom_models import WeComStaffMessage

log = logging.getLogger(__name__)
messages_t = WeComStaffMessage.__table__
COMMANDS = ("/joinway", "／joinway")  # the full-width slash of Chinese keyboards too
USAGE = (
    "Usage: /joinway CAMPAIGN [REFERRER]: a QR code that brings customers into the referral "
    "campaign's WeCom groups and credits REFERRER (a member key such as wecom:wmXXXX, or a label "
    "such as poster-shop1; you, when left out)."
)
NOT_STAFF = "Only the staff listed in Hearth's [platforms.wecom] staff can make join ways here."
NO_CONFIG = "This Hearth runs without its campaign tables; use: hearth wecom join-way create"


def parse(text: str, userid: str) -> tuple[str, str] | str:
    """(campaign, referrer) of a ``/joinway`` text, or what to answer instead."""
    parts = text.replace("\u3000", " ").split()
    if len(parts) not in (2, 3) or parts[0].lower() not in COMMANDS:
        return USAGE
    referrer = parts[2] if len(parts) == 3 else f"wecom:{userid}"
    try:
        return parts[1], check_referrer(referrer)
    except ValueError as err:
        return f"{err}\n{USAGE}"


def made(way: JoinWay) -> str:
    """The answer for a join way just made."""
    if ":" in way.referrer:
        credit = f"joins through it are credited to {way.referrer}"
    else:
        credit = f"joins through it are counted for {way.referrer}; nobody is paid"
    qr = way.qr_code or "(WeCom returned no QR code; see hearth wecom join-way list)"
    return f"Join way {way.state} for campaign {way.campaign} ({credit}):\n{qr}"


class StaffCommands:
    def __init__(
        self,
        db: AsyncEngine,
        client: WeComClient,
        ways: JoinWays,
        clock: Clock,
        staff: Collection[str],
        agent_id: int,
        scrub: Callable[[str], str],
    ) -> None:
        self.db = db
        self.client = client
        self.ways = ways
        self.clock = clock
        self.staff = set(staff)
        self.agent_id = agent_id
        self.scrub = scrub
        self.config: Any = None  # the parsed configuration (its campaign tables), set by the app

    async def add(self, text: AppText, now: datetime) -> bool:
        """Store a verified text to this app; False for a retry or another app's message."""
        if text.agent_id != self.agent_id:
            return False
        row = dict(msg_id=text.msg_id, userid=text.userid, content=text.content, received_at=now)
        async with self.db.begin() as conn:
            stmt = ignore_statement(conn.dialect.name, messages_t)
            result = await conn.execute(stmt, dict(row, status="pending", answer="", config_id=None))
        return bool(result.rowcount)

    async def drain(self) -> int:
        """Answer every stored text not answered yet, oldest first; returns how many were finished."""
        c = messages_t.c
        done = 0
        while True:
            q = select(messages_t).where(c.status != "done").order_by(c.id).limit(50)
            async with self.db.connect() as conn:
                rows = (await conn.execute(q)).all()
            if not rows:
                return done
            for row in rows:
                try:
                    await self._answer(row)
                except (TemporaryError, DBAPIError):
                    raise  # tried again later
                except Exception as err:  # never stuck on one text: it is given up, with a line
                    log.error("WeCom: a text from %s was not answered: %s", row.userid, self.scrub(repr(err))[:300])
                    await self._set(row.id, status="done")
                done += 1

    async def forget(self, before: datetime) -> None:
        c = messages_t.c
        async with self.db.begin() as conn:
            await conn.execute(delete(messages_t).where(c.status == "done", c.received_at < before))

    async def _set(self, row_id: int, **values: object) -> None:
        async with self.db.begin() as conn:
            await conn.execute(update(messages_t).where(messages_t.c.id == row_id).values(**values))

    async def _answer(self, row: Any) -> None:
        status, answer, config_id = row.status, row.answer, row.config_id
        if status == "pending":
            answer, config_id = await self._compose(row.id, row.userid, row.content)
            await self._set(row.id, status="made", answer=answer, config_id=config_id)
            status = "made"
        if status == "made":
            try:
                text = {"msgtype": "text", "text": {"content": answer}}
                await self.client.send_to_staff(self.agent_id, row.userid, text, dedupe=bool(config_id))
            except PermanentError as err:
                log.warning("WeCom: could not answer %s in the app chat: %s", row.userid, self.scrub(str(err)))
                config_id = None
            await self._set(row.id, status="answered")
        if config_id:
            try:
                await self._send_qr(row.userid, config_id)
            except (PermanentError, TemporaryError) as err:
                log.warning("WeCom: the QR image for %s was not sent (%s)", row.userid, self.scrub(str(err)))
        await self._set(row.id, status="done")

    async def _compose(self, row_id: int, userid: str, content: str) -> tuple[str, str | None]:
        """The answer to one text, and the config id of the join way it made, if any (recorded
        with the join way, in one transaction)."""
        if userid not in self.staff:
            return NOT_STAFF, None
        asked = parse(content, userid)
        if isinstance(asked, str):
            return asked, None
        if self.config is None:
            return NO_CONFIG, None
        campaign, referrer = asked
        now = self.clock.now()

        async def record(conn: AsyncConnection, way: JoinWay) -> None:
            q = update(messages_t).where(messages_t.c.id == row_id)
            await conn.execute(q.values(status="made", answer=made(way), config_id=way.config_id))

        try:
            chats, ends = plan(self.config, campaign, now)
            way = await self.ways.create(campaign, referrer, chats, now, ends, also=record)
        except ValueError as err:
            return f"No join way made: {err}", None
        except PermanentError as err:
            return f"No join way made: WeCom refused it ({self.scrub(str(err))})", None
        log.info("WeCom join way %s made for %s (campaign %s) by staff %s", way.state, referrer, campaign, userid)
        return made(way), way.config_id

    async def _send_qr(self, userid: str, config_id: str) -> None:
        way = await self.ways.find(config_id)
        if way is None or not way.qr_code:
            return
        png = await self.client.download(way.qr_code)
        media_id = await self.client.upload_image(f"joinway-{way.state}.png", png)
        image = {"msgtype": "image", "image": {"media_id": media_id}}
        await self.client.send_to_staff(self.agent_id, userid, image, dedupe=True)
