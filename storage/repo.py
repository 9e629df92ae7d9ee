"""Queries on members, points and check-ins that campaigns and commands share.

Every function takes a :data:`storage.tx.Conn`. On the engine's :class:`storage.tx.Tx`
writes are queued and sent with the batch, and the answers of ``points_of``,
``last_checkin`` and ``best_streak`` are memoised in the batch cache, kept current by
``add_points`` and ``add_checkin``; the ``prefetch_*`` functions fill that cache for many
members in one query. On a plain connection everything runs at once and nothing is cached.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, func, insert, select

from storage.models import Checkin, LedgerEntry, Member
from storage.tx import Conn, cache_of, write

ledger_t = LedgerEntry.__table__
checkins_t = Checkin.__table__
members_t = Member.__table__
_add_ledger = insert(ledger_t)
_add_checkin = insert(checkins_t)
_l, _c = ledger_t.c, checkins_t.c
# the batch queries, built once (their IN lists are expanding parameters)
_POINTS = (
    select(_l.member_key, _l.chat_key, func.sum(_l.points))
    .where(_l.member_key.in_(bindparam("members", expanding=True)))
    .group_by(_l.member_key, _l.chat_key)
)
_PAIRS = (
    _c.campaign == bindparam("campaign"),
    _c.chat_key.in_(bindparam("chats", expanding=True)),
    _c.member_key.in_(bindparam("members", expanding=True)),
)
_RECENT_CHECKINS = select(_c.chat_key, _c.member_key, _c.day, _c.streak).where(*_PAIRS, _c.day >= bindparam("since"))
_BEST_STREAKS = (
    select(_c.chat_key, _c.member_key, func.max(_c.streak)).where(*_PAIRS).group_by(_c.chat_key, _c.member_key)
)
CHUNK = 400  # members or pairs per prefetch query (well under every backend's bind limit)


def _chunks(items: Collection, size: int = CHUNK) -> Iterable[list]:
    items = sorted(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _pair_chunks(pairs: Collection[tuple[str, str]]) -> Iterable[tuple[list[str], list[str]]]:
    """(chats, members) lists whose cross product covers ``pairs``, for ``chat_key IN (..) AND
    member_key IN (..)`` (which, unlike a row-value IN, every backend answers from the
    (campaign, chat, member, day) index). At most 20 chats a query bounds the index probes
    to 20 per wanted pair."""
    by_chat: dict[str, set[str]] = {}
    for chat, member in pairs:
        by_chat.setdefault(chat, set()).add(member)
    for chats in _chunks(by_chat, 20):
        members = set().union(*(by_chat[c] for c in chats))
        for some in _chunks(members):
            yield chats, some


# --- points ---------------------------------------------------------------------------------


async def add_points(
    conn: Conn,
    *,
    member: str,
    chat: str | None,
    campaign: str,
    points: int,
    reason: str,
    event_ref: str,
    at: datetime,
) -> None:
    """Append one ledger row (never an edit)."""
    row = dict(member_key=member, chat_key=chat, campaign=campaign, points=points, reason=reason, event_ref=event_ref)
    await write(conn, _add_ledger, [{**row, "at": at}])
    cache = cache_of(conn)
    if cache is not None:
        for key in {("points", member, chat), ("points", member, None)}:
            if key in cache:
                cache[key] += points


async def points_of(conn: Conn, member: str, chat: str | None) -> int:
    """The member's points in ``chat`` (every chat when None)."""
    cache = cache_of(conn)
    key = ("points", member, chat)
    if cache is not None and key in cache:
        return cache[key]
    q = select(func.coalesce(func.sum(ledger_t.c.points), 0)).where(ledger_t.c.member_key == member)
    if chat is not None:
        q = q.where(ledger_t.c.chat_key == chat)
    total = int((await conn.execute(q)).scalar_one())
    if cache is not None:
        cache[key] = total
    return total


async def prefetch_points(conn: Conn, pairs: Iterable[tuple[str, str | None]]) -> None:
    """Fill the batch cache with ``points_of(member, chat)`` for every (member, chat) pair."""
    cache = cache_of(conn)
    if cache is None:
        return
    wanted = {p for p in pairs if ("points", *p) not in cache}
    for chunk in _chunks({m for m, _ in wanted}):
        members = set(chunk)
        sums: dict[tuple[str, str | None], int] = {}
        for member, chat, total in await conn.execute(_POINTS, {"members": chunk}):
            if chat is not None:
                sums[(member, chat)] = int(total)
            sums[(member, None)] = sums.get((member, None), 0) + int(total)
        for member, chat in wanted:
            if member in members:
                cache[("points", member, chat)] = sums.get((member, chat), 0)


@dataclass(frozen=True, slots=True)
class Standing:
    member: str
    name: str
    points: int


async def leaderboard(conn: Conn, chat: str, limit: int = 10) -> list[Standing]:
    total = func.sum(ledger_t.c.points).label("total")
    q = (
        select(ledger_t.c.member_key, total, members_t.c.name)
        .join(members_t, members_t.c.key == ledger_t.c.member_key, isouter=True)
        .where(ledger_t.c.chat_key == chat)
        .group_by(ledger_t.c.member_key, members_t.c.name)
        .having(total > 0)
        .order_by(total.desc(), ledger_t.c.member_key)
        .limit(limit)
    )
    rows = (await conn.execute(q)).all()
    return [Standing(r.member_key, r.name or r.member_key.split(":", 1)[1], int(r.total)) for r in rows]


# --- check-ins ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LastCheckin:
    day: date
    streak: int


async def last_checkin(
    conn: Conn, campaign: str, chat: str, member: str, since: date | None = None
) -> LastCheckin | None:
    """The member's latest check-in; with ``since``, None may also mean "none since then".

    Callers to whom a check-in before ``since`` means the same as none pass it, so one
    prefetch query reads only recent rows however long the history.
    """
    cache = cache_of(conn)
    key = ("checkin", campaign, chat, member)
    if cache is not None and key in cache:
        # (covered, last): the latest check-in; or, when last is None, none on or after
        # ``covered`` (None: none at all)
        covered, last = cache[key]
        if last is not None or covered is None or (since is not None and since >= covered):
            return last
    c = checkins_t.c
    q = (
        select(c.day, c.streak)
        .where(c.campaign == campaign, c.chat_key == chat, c.member_key == member)
        .order_by(c.day.desc())
        .limit(1)
    )
    row = (await conn.execute(q)).first()
    last = LastCheckin(row.day, row.streak) if row else None
    if cache is not None:
        cache[key] = (None, last)
    return last


async def prefetch_checkins(conn: Conn, campaign: str, pairs: Iterable[tuple[str, str]], since: date) -> None:
    """Fill the batch cache with ``last_checkin(campaign, chat, member, since)`` for each
    (chat, member) pair, reading only check-ins on or after ``since``."""
    cache = cache_of(conn)
    if cache is None:
        return
    wanted = {p for p in pairs if ("checkin", campaign, *p) not in cache}
    found: dict[tuple[str, str], LastCheckin] = {}
    for chats, members in _pair_chunks(wanted):
        params = {"campaign": campaign, "chats": chats, "members": members, "since": since}
        for chat, member, day, streak in await conn.execute(_RECENT_CHECKINS, params):
            if (chat, member) not in found or day > found[(chat, member)].day:
                found[(chat, member)] = LastCheckin(day, streak)
    for pair in wanted:
        last = found.get(pair)
        cache[("checkin", campaign, *pair)] = (None if last else since, last)


async def best_streak(conn: Conn, campaign: str, chat: str, member: str) -> int:
    cache = cache_of(conn)
    key = ("best_streak", campaign, chat, member)
    if cache is not None and key in cache:
        return cache[key]
    c = checkins_t.c
    q = select(func.coalesce(func.max(c.streak), 0)).where(
        c.campaign == campaign, c.chat_key == chat, c.member_key == member
    )
    best = int((await conn.execute(q)).scalar_one())
    if cache is not None:
        cache[key] = best
    return best


async def prefetch_best_streaks(conn: Conn, campaign: str, pairs: Iterable[tuple[str, str]]) -> None:
    """Fill the batch cache with ``best_streak(campaign, chat, member)`` for each pair."""
    cache = cache_of(conn)
    if cache is None:
        return
    wanted = {p for p in pairs if ("best_streak", campaign, *p) not in cache}
    best: dict[tuple[str, str], int] = {}
    for chats, members in _pair_chunks(wanted):
        rows = await conn.execute(_BEST_STREAKS, {"campaign": campaign, "chats": chats, "members": members})
        best.update(((chat, member), int(value)) for chat, member, value in rows)
    for pair in wanted:
        cache[("best_streak", campaign, *pair)] = best.get(pair, 0)


async def add_checkin(
    conn: Conn,
    *,
    campaign: str,
    chat: str,
    member: str,
    day: date,
    at: datetime,
    streak: int,
    event_ref: str,
) -> None:
    row = dict(campaign=campaign, chat_key=chat, member_key=member, day=day, at=at, streak=streak, event_ref=event_ref)
    await write(conn, _add_checkin, [row])
    cache = cache_of(conn)
    if cache is None:
        return
    key = ("checkin", campaign, chat, member)
    if key in cache:
        covered, last = cache[key]
        if last is None and covered is not None and day < covered:
            del cache[key]  # older than what the entry covers: it no longer knows the latest
        elif last is None or day >= last.day:
            cache[key] = (None, LastCheckin(day, streak))
    best = ("best_streak", campaign, chat, member)
    if best in cache:
        cache[best] = max(cache[best], streak)
