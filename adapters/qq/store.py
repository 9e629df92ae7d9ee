"""What the QQ adapter keeps in the database (tables in :mod:`storage.qq_models`).

Reply windows and the ``msg_seq`` numbers given out in them, each group's state (bot present,
proactive messages allowed), openids with their ``union_openid``, and the gateway's session and
lease. Everything an incoming dispatch changes here is committed before it is acknowledged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.qq.decode import Incoming
from storage.qq_models import QQGateway, QQGroup, QQIdentity, QQSend, QQWindow
from storage.sql import insert_ignore, upsert

windows_t = QQWindow.__table__
sends_t = QQSend.__table__
groups_t = QQGroup.__table__
ids_t = QQIdentity.__table__
gateway_t = QQGateway.__table__
MAX_REPLIES = 5  # passive replies per msg_id / event_id
KEEP_WINDOWS = timedelta(hours=3)


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

    # --- incoming -----------------------------------------------------------------------------

    async def remember(self, inc: Incoming) -> None:
        """Record the window, group change and identity a dispatch carries (one transaction)."""
        if inc.window is None and inc.group is None and inc.identity is None:
            return
        me = self.self_id
        async with self.db.begin() as conn:
            if (w := inc.window) is not None:
                row = dict(self_id=me, ref=w.ref, param=w.param, value=w.value, scope=w.scope, target=w.target)
                await insert_ignore(conn, windows_t, [{**row, "opened_at": w.opened_at}])
            if (g := inc.group) is not None:
                values: dict[str, object] = {"changed_at": g.at, "changed_by": g.by}
                if g.present is not None:
                    values["present"] = g.present
                if g.proactive is not None:
                    values["proactive"] = g.proactive
                    values["present"] = True
                row = {"self_id": me, "group_openid": g.group, "present": None, "proactive": None, **values}
                await upsert(conn, groups_t, [row], ["self_id", "group_openid"], values)
            if (i := inc.identity) is not None:
                row = dict(self_id=me, openid=i.openid, scope=i.scope, group_openid=i.group, union_openid=i.union)
                update_: dict[str, object] = {"seen_at": i.at}
                if i.union:
                    update_["union_openid"] = i.union
                await upsert(conn, ids_t, [{**row, "seen_at": i.at}], ["self_id", "openid"], update_)
        self._remembered += 1
        if self._remembered % 1000 == 0 and inc.window is not None:
            await self.prune(inc.window.opened_at - KEEP_WINDOWS)

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
