"""Staff-confirmed group broadcasts: a scheduled announcement becomes one ``add_msg_template`` task.

WeCom lets an app post into a customer group only as a broadcast task that the group's owner
confirms in the WeCom client. Hearth records the task (``wecom_broadcasts``) under the
outbox row's idempotency key, so a retried send never makes a second task once the first
was recorded; it polls ``get_groupmsg_send_result`` and shows pending / sent / not sent
(``hearth wecom broadcasts``). WeCom delivers at most "days of the month" broadcasts to a
group per month (admins may lower it; ``monthly_cap``): a broadcast over the cap is recorded
as ``over_cap`` with a clear message, and WeCom is not asked.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import PermanentError, SendResult, TemporaryError
from adapters.wecom.api import WeComClient
from adapters.wecom.store import WeComStore
from storage.wecom_models import WeComBroadcast

log = logging.getLogger(__name__)
casts_t = WeComBroadcast.__table__
CHINA = ZoneInfo("Asia/Shanghai")  # WeCom counts months in China time
COUNTED = ("pending", "sent")
REMIND_EVERY = timedelta(hours=8)  # WeCom allows 3 reminders a day
MAX_REMINDERS = 3
STATUS = {0: "pending", 1: "sent", 2: "not_sent", 3: "not_sent"}


@dataclass(frozen=True, slots=True)
class BroadcastRow:
    id: int
    chat_id: str
    sender: str
    msgid: str | None
    status: str
    text: str
    detail: str
    reminders: int
    created_at: datetime
    checked_at: datetime | None


def month_cap(now: datetime, configured: int | None) -> int:
    local = now.astimezone(CHINA)
    days = calendar.monthrange(local.year, local.month)[1]
    return min(configured, days) if configured else days


def _month_start(now: datetime) -> datetime:
    local = now.astimezone(CHINA)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class Broadcasts:
    def __init__(
        self, db: AsyncEngine, client: WeComClient, store: WeComStore, staff: list[str], cap: int | None
    ) -> None:
        self.db = db
        self.client = client
        self.store = store
        self.staff = set(staff)
        self.cap = cap

    async def _existing(self, key: str) -> BroadcastRow | None:
        async with self.db.connect() as conn:
            row = (await conn.execute(select(casts_t).where(casts_t.c.key == key))).first()
        return _row(row) if row else None

    async def this_month(self, chat_id: str, now: datetime) -> int:
        c = casts_t.c
        q = select(func.count()).where(c.chat_id == chat_id, c.status.in_(COUNTED), c.created_at >= _month_start(now))
        async with self.db.connect() as conn:
            return int((await conn.execute(q)).scalar_one())

    async def _record(self, **row: object) -> None:
        async with self.db.begin() as conn:
            await conn.execute(casts_t.insert(), [row])

    async def send(self, chat_id: str, text: str, key: str, now: datetime) -> SendResult:
        """Create the broadcast task for one group (once per ``key``)."""
        done = await self._existing(key)
        if done is not None:
            return SendResult(message_id=done.msgid, data={"status": done.status})
        info = await self.store.group(chat_id)
        if info is None:
            raise TemporaryError(f"group {chat_id} is not synced yet; its owner is unknown", 60.0)
        owner = info[1]
        if owner not in self.staff:
            raise PermanentError(
                f"not queued: the owner of WeCom group {chat_id} ({owner or 'unknown'}) is not listed in "
                "[platforms.wecom].staff, and only the owner can confirm a group broadcast"
            )
        cap = month_cap(now, self.cap)
        used = await self.this_month(chat_id, now)
        row = dict(key=key, chat_id=chat_id, sender=owner, text=text[:4000], reminders=0, created_at=now)
        if used >= cap:
            detail = (
                f"not queued: group {chat_id} already has {used} broadcast(s) this month and WeCom delivers at "
                f"most {cap} per group per month; it will accept more from the 1st"
            )
            log.warning("WeCom broadcast %s", detail)
            await self._record(**row, status="over_cap", detail=detail, msgid=None)
            return SendResult(data={"status": "over_cap", "detail": detail})
        answer = await self.client.add_msg_template(owner, [chat_id], text[:4000])
        msgid = str(answer.get("msgid") or "")
        failed = [str(f) for f in answer.get("fail_list") or []]
        status = "not_sent" if chat_id in failed or not msgid else "pending"
        detail = "WeCom refused the group for this broadcast" if status == "not_sent" else "waiting for the owner"
        await self._record(**row, status=status, detail=detail, msgid=msgid or None)
        return SendResult(message_id=msgid or None, data={"status": status})

    async def poll(self, now: datetime) -> int:
        """Fetch the result of every pending task; remind owners within WeCom's limits."""
        c = casts_t.c
        async with self.db.connect() as conn:
            rows = [_row(r) for r in await conn.execute(select(casts_t).where(c.status == "pending"))]
        changed = 0
        for b in rows:
            if b.msgid is None:
                continue
            try:
                results = await self.client.send_result(b.msgid, b.sender)
            except PermanentError as err:  # WeCom no longer knows the task: stop asking
                async with self.db.begin() as conn:
                    q = update(casts_t).where(c.id == b.id)
                    await conn.execute(q.values(status="not_sent", detail=str(err)[:500], checked_at=now))
                changed += 1
                continue
            codes = [int(r.get("status", 0)) for r in results if str(r.get("chat_id", "")) == b.chat_id]
            status = STATUS.get(codes[0], "pending") if codes else "pending"
            values: dict[str, object] = {"checked_at": now}
            if status != b.status:
                changed += 1
                values.update(status=status, detail="confirmed and sent" if status == "sent" else "not sent")
            elif b.reminders < MAX_REMINDERS and now - b.created_at >= REMIND_EVERY * (b.reminders + 1):
                await self.client.remind(b.msgid)
                values["reminders"] = b.reminders + 1
            async with self.db.begin() as conn:
                await conn.execute(update(casts_t).where(c.id == b.id).values(**values))
        return changed

    async def recent(self, limit: int = 50) -> list[BroadcastRow]:
        async with self.db.connect() as conn:
            rows = await conn.execute(select(casts_t).order_by(casts_t.c.id.desc()).limit(limit))
            return [_row(r) for r in rows]


async def counts(db: AsyncEngine) -> dict[str, int]:
    """Broadcasts by status (for ``hearth stats``)."""
    c = casts_t.c
    async with db.connect() as conn:
        return {r[0]: int(r[1]) for r in await conn.execute(select(c.status, func.count()).group_by(c.status))}


def _row(r: Any) -> BroadcastRow:
    return BroadcastRow(
        r.id, r.chat_id, r.sender, r.msgid, r.status, r.text, r.detail, r.reminders, r.created_at, r.checked_at
    )
