"""Join ways (「加入群聊」 QR codes) that attribute joins: one per campaign and referrer.

Hearth makes each with a short ``state`` (``h`` + 10 random letters and digits; WeCom keeps
at most 30 characters) and remembers which campaign and referrer it names. ``groupchat/get``
reports that ``state`` for every member who joined through the code, and the roster turns it
into an exact :class:`bot.events.Invite` (:func:`invite_for`). The referrer is a member key
(``wecom:<userid>``, ``telegram:123``...; the referral campaign credits them) or a label such
as ``poster-shop1`` (joins are counted for it; nobody is paid).
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.wecom.api import WeComClient
from adapters.wecom.decode import Member, unknown_invite
from bot.events import Invite
from storage.wecom_models import WeComJoinWay, WeComRosterEntry

ways_t = WeComJoinWay.__table__
roster_t = WeComRosterEntry.__table__
STATE_LIMIT = 30  # characters WeCom keeps of a join way's state
MAX_CHATS = 5  # groups one join way may lead to
_ALPHABET = string.ascii_lowercase + string.digits
_LABEL = re.compile(r"^[\w.-]{1,60}$")


@dataclass(frozen=True, slots=True)
class JoinWay:
    config_id: str
    state: str
    campaign: str
    referrer: str
    chat_ids: tuple[str, ...]
    qr_code: str
    created_at: datetime
    ends_at: datetime | None
    deleted_at: datetime | None
    joins: int = 0


def new_state() -> str:
    return "h" + "".join(secrets.choice(_ALPHABET) for _ in range(10))


def check_state(state: str) -> str:
    if not state or len(state) > STATE_LIMIT:
        raise ValueError(f"a join way's state has 1 to {STATE_LIMIT} characters (WeCom's limit)")
    return state


def check_referrer(referrer: str) -> str:
    """A member key (``platform:id``) or a label of letters, digits, ``_ . -``."""
    platform, sep, ident = referrer.partition(":")
    if sep and platform and ident and re.fullmatch(r"[a-z][a-z0-9_]*", platform):
        return referrer
    if not sep and _LABEL.match(referrer):
        return referrer
    raise ValueError(f"{referrer!r} is neither a member key (e.g. wecom:wmABC) nor a label (letters, digits, _ . -)")


class NoJoinWay(ValueError):
    """No join way can be made for that campaign; the text says why, for whoever asked."""


def plan(config: Any, campaign: str, now: datetime, groups: Sequence[str] = ()) -> tuple[list[str], datetime | None]:
    """The chat ids and the end of a new join way for ``campaign`` (``groups``, else the campaign's
    wecom groups): the checks ``hearth wecom join-way create`` and staff's ``/joinway`` share.
    ``config`` is the parsed configuration; only its campaign tables are read."""
    c = config.campaigns.get(campaign)
    if c is None:
        known = sorted(n for n, t in config.campaigns.items() if t.type == "referral")
        raise NoJoinWay(f"no campaign {campaign!r}" + (f" (referral campaigns: {', '.join(known)})" if known else ""))
    if c.type != "referral":
        raise NoJoinWay(f"campaign {campaign!r} is a {c.type} campaign; join ways credit referral campaigns")
    if not c.enabled:
        raise NoJoinWay(f"campaign {campaign!r} is switched off (enabled = false); no join way made")
    if c.ends is not None and c.ends <= now:
        raise NoJoinWay(f"campaign {campaign!r} has ended; no join way made")
    chats = [g.removeprefix("wecom:") for g in groups or [g for g in c.groups or [] if g.startswith("wecom:")]]
    if not chats:
        raise NoJoinWay(
            f"campaign {campaign!r} lists no wecom: group; list them in its groups "
            "(or give hearth wecom join-way create --group wecom:CHAT_ID)"
        )
    if len(chats) > MAX_CHATS:
        raise NoJoinWay(f"a join way leads to at most {MAX_CHATS} groups (got {len(chats)})")
    return chats, c.ends


def invite_for(way: JoinWay | None, member: Member) -> Invite:
    """The Invite of a member who joined with ``member.state`` (``way`` is its join way, if Hearth's)."""
    if way is None:
        return unknown_invite(member)
    referrer = way.referrer if ":" in way.referrer else None
    return Invite(code=way.state, creator=referrer, name=way.campaign, via="qr", campaign=way.campaign)


def _row(r: Any, joins: int = 0) -> JoinWay:
    chats = tuple(r.chat_ids or ())
    return JoinWay(
        r.config_id, r.state, r.campaign, r.referrer, chats, r.qr_code, r.created_at, r.ends_at, r.deleted_at, joins
    )


class JoinWays:
    def __init__(self, db: AsyncEngine, client: WeComClient) -> None:
        self.db = db
        self.client = client

    async def by_states(self, states: set[str]) -> dict[str, JoinWay]:
        if not states:
            return {}
        async with self.db.connect() as conn:
            rows = await conn.execute(select(ways_t).where(ways_t.c.state.in_(sorted(states))))
            return {r.state: _row(r) for r in rows}

    async def create(
        self,
        campaign: str,
        referrer: str,
        chat_ids: list[str],
        now: datetime,
        ends_at: datetime | None,
        also: Callable[[AsyncConnection, JoinWay], Awaitable[None]] | None = None,
    ) -> JoinWay:
        """Make the QR join way on WeCom and remember it (``also`` records more in the same
        transaction); returns it with its QR code URL."""
        check_referrer(referrer)
        if not 1 <= len(chat_ids) <= MAX_CHATS:
            raise ValueError(f"a join way leads to 1 to {MAX_CHATS} groups (got {len(chat_ids)})")
        state = check_state(new_state())
        config_id = await self.client.add_join_way(chat_ids, state, remark=f"{campaign}"[:30])
        detail = await self.client.get_join_way(config_id)
        qr = str(detail.get("qr_code") or "")
        row = dict(
            config_id=config_id,
            state=state,
            campaign=campaign,
            referrer=referrer,
            chat_ids=list(chat_ids),
            qr_code=qr,
            created_at=now,
            ends_at=ends_at,
            deleted_at=None,
        )
        way = JoinWay(config_id, state, campaign, referrer, tuple(chat_ids), qr, now, ends_at, None)
        async with self.db.begin() as conn:
            await conn.execute(ways_t.insert(), [row])
            if also is not None:
                await also(conn, way)
        return way

    async def all(self, include_deleted: bool = False) -> list[JoinWay]:
        joins = (
            select(roster_t.c.state, func.count().label("n"))
            .where(roster_t.c.state.is_not(None))
            .group_by(roster_t.c.state)
        )
        q = select(ways_t).order_by(ways_t.c.created_at, ways_t.c.state)
        if not include_deleted:
            q = q.where(ways_t.c.deleted_at.is_(None))
        async with self.db.connect() as conn:
            counts = {r.state: int(r.n) for r in await conn.execute(joins)}
            return [_row(r, counts.get(r.state, 0)) for r in await conn.execute(q)]

    async def find(self, ident: str) -> JoinWay | None:
        for way in await self.all(include_deleted=True):
            if ident in (way.state, way.config_id):
                return way
        return None

    async def delete(self, way: JoinWay, now: datetime) -> None:
        """Delete it on WeCom (so the corp's quota is not spent) and mark it deleted."""
        await self.client.del_join_way(way.config_id)
        async with self.db.begin() as conn:
            q = update(ways_t).where(ways_t.c.config_id == way.config_id, ways_t.c.deleted_at.is_(None))
            await conn.execute(q.values(deleted_at=now))

    async def prune(self, now: datetime, ended: frozenset[str] = frozenset()) -> list[JoinWay]:
        """Delete the join ways of campaigns that ended (by their ``ends`` or named in ``ended``)."""
        gone = [w for w in await self.all() if (w.ends_at is not None and w.ends_at <= now) or w.campaign in ended]
        for way in gone:
            await self.delete(way, now)
        return gone
