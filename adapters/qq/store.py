"""What the QQ adapter keeps in the database (tables in :mod:`storage.qq_models`).

Reply windows and the ``msg_seq`` numbers given out in them, each group's state (bot present,
proactive messages allowed), openids with their ``union_openid``, and the gateway's session and
lease. Everything an incoming dispatch changes here is committed before it is acknowledged.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.qq.decode import PLATFORM, Incoming
from storage import chat_permissions
from storage.qq_models import QQGateway, QQGroup, QQIdentity, QQSend, QQWindow
from storage.sql import insert_ignore, upsert

windows_t = QQWindow.__table__
sends_t = QQSend.__table__
groups_t = QQGroup.__table__
ids_t = QQIdentity.__table__
gateway_t = QQGateway.__table__
PROACTIVE = "proactive_messages"  # the permission's name in storage.chat_permissions
MAX_REPLIES = 5  # passive replies per msg_id / event_id
KEEP_WINDOWS = timedelta(hours=3)
PRUNE_EVERY = 1000  # windows written between two clean-ups of old ones
KNOWN = 50_000  # openids whose union_openid is known to be stored


@dataclass(frozen=True, slots=True)
class OpenWindow:
    ref: str
    param: str
    value: str
    scope: str
    target: str
    opened_at: datetime


@dataclass(frozen=True, slots=True)
class GroupState:
    present: bool | None
    proactive: bool | None
    changed_at: datetime | None = None


class QQStore:
    def __init__(self, db: AsyncEngine, self_id: str) -> None:
        self.db = db
        self.self_id = self_id
        self._remembered = 0
        self._pending: list[tuple[Incoming, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._known: OrderedDict[str, str | None] = OrderedDict()  # openid -> union_openid stored

    # --- incoming -----------------------------------------------------------------------------

    async def remember(self, inc: Incoming) -> None:
        """Record the window, group change and identity a dispatch carries; returns once committed.

        Dispatches arriving while a write is in flight are written together in the next
        transaction (group commit), as the engine's intake does with events.
        """
        if inc.identity is not None and self._known.get(inc.identity.openid, "") == (inc.identity.union or None):
            inc = replace(inc, identity=None)  # seen before with the same union_openid: nothing new
        if inc.window is None and inc.group is None and inc.identity is None:
            return
        done = asyncio.get_running_loop().create_future()
        self._pending.append((inc, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending(), name="qq-store-writer")
        await done

    async def _write_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._write([inc for inc, _ in batch])
            except Exception as err:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(err)
                continue
            for inc, done in batch:
                if inc.identity is not None:
                    self._remember_identity(inc.identity.openid, inc.identity.union)
                if not done.done():
                    done.set_result(None)
            self._remembered += len(batch)
            opened = [inc.window.opened_at for inc, _ in batch if inc.window is not None]
            if opened and self._remembered >= PRUNE_EVERY:
                self._remembered = 0
                await self.prune(max(opened) - KEEP_WINDOWS)

    def _remember_identity(self, openid: str, union: str | None) -> None:
        self._known[openid] = union
        self._known.move_to_end(openid)
        if len(self._known) > KNOWN:
            self._known.popitem(last=False)

    async def _write(self, batch: list[Incoming]) -> None:
        me = self.self_id
        windows, identities = [], []
        async with self.db.begin() as conn:
            for inc in batch:
                if (w := inc.window) is not None:
                    windows.append(
                        dict(self_id=me, ref=w.ref, param=w.param, value=w.value, scope=w.scope, target=w.target)
                        | {"opened_at": w.opened_at}
                    )
                if (g := inc.group) is not None:
                    values: dict[str, object] = {"changed_at": g.at, "changed_by": g.by}
                    if g.present is not None:
                        values["present"] = g.present
                    if g.proactive is not None:
                        values["proactive"] = g.proactive
                        values["present"] = True
                    row = {"self_id": me, "group_openid": g.group, "present": None, "proactive": None, **values}
                    await upsert(conn, groups_t, [row], ["self_id", "group_openid"], values)
                    if g.proactive is not None:  # shown by /stats in the group
                        await chat_permissions.record(conn, f"{PLATFORM}:{g.group}", PROACTIVE, g.proactive)
                if (i := inc.identity) is not None:
                    identities.append(
                        dict(self_id=me, openid=i.openid, scope=i.scope, group_openid=i.group)
                        | {"union_openid": i.union, "seen_at": i.at}
                    )
            await insert_ignore(conn, windows_t, windows)
            for row in identities:  # one by one: a batch may name one openid twice
                update_: dict[str, object] = {"seen_at": row["seen_at"]}
                if row["union_openid"]:
                    update_["union_openid"] = row["union_openid"]
                await upsert(conn, ids_t, [row], ["self_id", "openid"], update_)

    async def prune(self, before: datetime) -> None:
        """Forget windows long closed (and the numbers given out in them)."""
        async with self.db.begin() as conn:
            old = select(windows_t.c.ref).where(windows_t.c.self_id == self.self_id, windows_t.c.opened_at < before)
            await conn.execute(delete(sends_t).where(sends_t.c.self_id == self.self_id, sends_t.c.ref.in_(old)))
            await conn.execute(
                delete(windows_t).where(windows_t.c.self_id == self.self_id, windows_t.c.opened_at < before)
            )

    # --- reply windows ------------------------------------------------------------------------

    async def window(self, ref: str) -> OpenWindow | None:
        c = windows_t.c
        q = select(c.ref, c.param, c.value, c.scope, c.target, c.opened_at)
        async with self.db.connect() as conn:
            row = (await conn.execute(q.where(c.self_id == self.self_id, c.ref == ref))).first()
        return OpenWindow(*row) if row else None

    async def latest_c2c(self, users: list[str], since: datetime) -> OpenWindow | None:
        """The newest private-chat window of any of ``users`` opened after ``since``."""
        if not users:
            return None
        c = windows_t.c
        q = (
            select(c.ref, c.param, c.value, c.scope, c.target, c.opened_at)
            .where(c.self_id == self.self_id, c.scope == "c2c", c.target.in_(users), c.opened_at > since)
            .order_by(c.opened_at.desc())
            .limit(1)
        )
        async with self.db.connect() as conn:
            row = (await conn.execute(q)).first()
        return OpenWindow(*row) if row else None

    async def seq_for(self, ref: str, idempotency_key: str) -> int | None:
        """The ``msg_seq`` of this outbox row in the window (the same on a retry); None when used up."""
        c = sends_t.c
        mine = (c.self_id == self.self_id) & (c.idempotency_key == idempotency_key)
        async with self.db.begin() as conn:
            given = (await conn.execute(select(c.seq, c.ref).where(mine))).first()
            if given is not None and given.ref == ref:
                return int(given.seq)
            if given is not None:  # the row was retried against another window (cannot happen twice)
                await conn.execute(delete(sends_t).where(mine))
            used = (
                await conn.execute(select(func.count()).where(c.self_id == self.self_id, c.ref == ref))
            ).scalar_one()
            if used >= MAX_REPLIES:
                return None
            row = dict(self_id=self.self_id, idempotency_key=idempotency_key, ref=ref, seq=int(used) + 1)
            await conn.execute(sends_t.insert(), [row])
            return int(used) + 1

    # --- identities -----------------------------------------------------------------------------

    async def private_ids(self, openid: str) -> list[str]:
        """The C2C openids that may reach ``openid``: itself if it wrote privately, else those
        sharing its ``union_openid`` (a group member_openid is not a C2C address)."""
        c = ids_t.c
        async with self.db.connect() as conn:
            row = (
                await conn.execute(select(c.scope, c.union_openid).where(c.self_id == self.self_id, c.openid == openid))
            ).first()
            if row is None:
                return []
            if row.scope == "user":
                return [openid]
            if not row.union_openid:
                return []
            rows = await conn.execute(
                select(c.openid).where(c.self_id == self.self_id, c.union_openid == row.union_openid, c.scope == "user")
            )
            return [r[0] for r in rows]

    # --- groups ---------------------------------------------------------------------------------

    async def group(self, group: str) -> GroupState:
        c = groups_t.c
        async with self.db.connect() as conn:
            row = (
                await conn.execute(
                    select(c.present, c.proactive, c.changed_at).where(
                        c.self_id == self.self_id, c.group_openid == group
                    )
                )
            ).first()
        return GroupState(*row) if row else GroupState(None, None)

    async def refuse_proactive(self, group: str, at: datetime) -> None:
        """The platform said 40034102: remember it, so later posts there are not attempted."""
        values = {"proactive": False, "changed_at": at, "changed_by": "platform:40034102"}
        row = dict(self_id=self.self_id, group_openid=group, present=True, **values)
        async with self.db.begin() as conn:
            await upsert(conn, groups_t, [row], ["self_id", "group_openid"], values)
            await chat_permissions.record(conn, f"{PLATFORM}:{group}", PROACTIVE, False)

    # --- gateway ------------------------------------------------------------------------------

    async def acquire_lease(self, owner: str, now: datetime, ttl: timedelta) -> tuple[bool, str, datetime]:
        """Take or renew the one-connection lease; ``(got it, holder, until)``."""
        c = gateway_t.c
        until = now + ttl
        async with self.db.begin() as conn:
            await insert_ignore(conn, gateway_t, [dict(self_id=self.self_id, owner=owner, lease_until=until)])
            done = await conn.execute(
                update(gateway_t)
                .where(c.self_id == self.self_id, or_(c.owner == owner, c.lease_until < now))
                .values(owner=owner, lease_until=until)
            )
            if done.rowcount == 1:
                return True, owner, until
            row = (await conn.execute(select(c.owner, c.lease_until).where(c.self_id == self.self_id))).one()
            return False, row.owner, row.lease_until

    async def release_lease(self, owner: str, now: datetime) -> None:
        c = gateway_t.c
        async with self.db.begin() as conn:
            await conn.execute(
                update(gateway_t).where(c.self_id == self.self_id, c.owner == owner).values(lease_until=now)
            )

    async def session(self) -> tuple[str | None, int | None]:
        c = gateway_t.c
        async with self.db.connect() as conn:
            row = (await conn.execute(select(c.session_id, c.seq).where(c.self_id == self.self_id))).first()
        return (row.session_id, row.seq) if row else (None, None)

    async def save_session(self, owner: str, session_id: str | None, seq: int | None) -> None:
        c = gateway_t.c
        async with self.db.begin() as conn:
            await conn.execute(
                update(gateway_t)
                .where(c.self_id == self.self_id, c.owner == owner)
                .values(session_id=session_id, seq=seq)
            )
