"""Queries of the quiz campaign: runs, the no-repeat history, answers, scores and prizes.

Every function takes a :data:`storage.tx.Conn` and runs at once (reads must see the writes
before them, and the quiz reads what it just wrote).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from storage.models import Member
from storage.quiz_models import QuizAnswer, QuizAsked, QuizPrize, QuizRun
from storage.sql import insert_ignore
from storage.tx import Conn

runs_t = QuizRun.__table__
asked_t = QuizAsked.__table__
answers_t = QuizAnswer.__table__
prizes_t = QuizPrize.__table__
members_t = Member.__table__


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    campaign: str
    chat: str
    season: str
    status: str
    phase: str
    plan: list[tuple[str, int]]
    position: int
    asked_at: datetime | None
    started_at: datetime


def _run(row: Any) -> Run:
    plan = [(str(key), int(cycle)) for key, cycle in row.plan]
    return Run(
        row.id,
        row.campaign,
        row.chat_key,
        row.season,
        row.status,
        row.phase,
        plan,
        row.position,
        row.asked_at,
        row.started_at,
    )


async def running(conn: Conn, chat: str) -> Run | None:
    """The quiz run going on in ``chat`` (of any quiz campaign), if any."""
    c = runs_t.c
    q = select(runs_t).where(c.chat_key == chat, c.status == "running").order_by(c.id.desc()).limit(1)
    row = (await conn.execute(q)).first()
    return _run(row) if row else None


async def get(conn: Conn, run_id: int) -> Run | None:
    row = (await conn.execute(select(runs_t).where(runs_t.c.id == run_id))).first()
    return _run(row) if row else None


async def create(
    conn: Conn, *, campaign: str, chat: str, season: str, plan: list[tuple[str, int]], at: datetime, by: str | None
) -> int:
    values = dict(
        campaign=campaign,
        chat_key=chat,
        season=season,
        status="running",
        phase="between",
        plan=[list(p) for p in plan],
        position=0,
        started_at=at,
        started_by=by,
    )
    result = await conn.execute(insert(runs_t).values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def change(conn: Conn, run_id: int, **values: Any) -> None:
    await conn.execute(update(runs_t).where(runs_t.c.id == run_id).values(**values))


# --- no repeats ---------------------------------------------------------------------------------


async def history(conn: Conn, campaign: str, chat: str) -> tuple[int, set[str]]:
    """The current cycle and the questions already asked in it."""
    c = asked_t.c
    where = (c.campaign == campaign, c.chat_key == chat)
    cycle = (await conn.execute(select(func.max(c.cycle)).where(*where))).scalar()
    if cycle is None:
        return 0, set()
    rows = await conn.execute(select(c.question).where(*where, c.cycle == cycle))
    return int(cycle), {r[0] for r in rows}


async def mark_asked(
    conn: Conn, *, campaign: str, chat: str, question: str, cycle: int, run_id: int, at: datetime
) -> None:
    row = dict(campaign=campaign, chat_key=chat, question=question, cycle=cycle, run_id=run_id, asked_at=at)
    await insert_ignore(conn, asked_t, [row])  # type: ignore[arg-type]


# --- answers ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    attempts: int
    correct: bool
    points: int


async def answer_of(conn: Conn, run_id: int, position: int, member: str) -> Answer | None:
    c = answers_t.c
    q = select(c.attempts, c.correct, c.points).where(
        c.run_id == run_id, c.position == position, c.member_key == member
    )
    row = (await conn.execute(q)).first()
    return Answer(row.attempts, row.correct, row.points) if row else None


async def record_answer(
    conn: Conn, *, run_id: int, position: int, member: str, first: bool, correct: bool, points: int, at: datetime
) -> None:
    """Insert the member's answer to a question, or (a later guess) update it."""
    c = answers_t.c
    if first:
        row = dict(run_id=run_id, position=position, member_key=member, attempts=1, correct=correct, points=points)
        await conn.execute(insert(answers_t).values(**row, at=at))
        return
    where = (c.run_id == run_id, c.position == position, c.member_key == member)
    values = dict(attempts=c.attempts + 1, correct=correct, points=points, at=at)
    await conn.execute(update(answers_t).where(*where).values(**values))


@dataclass(frozen=True, slots=True)
class Score:
    member: str
    name: str
    points: int


def _name(key: str, name: str | None) -> str:
    return name or key.split(":", 1)[-1]


async def correct_answers(conn: Conn, run_id: int, position: int) -> list[Score]:
    """Who answered a question correctly, fastest first."""
    c = answers_t.c
    q = (
        select(c.member_key, c.points, members_t.c.name)
        .join(members_t, members_t.c.key == c.member_key, isouter=True)
        .where(c.run_id == run_id, c.position == position, c.correct.is_(True))
        .order_by(c.at, c.id)
    )
    return [Score(r.member_key, _name(r.member_key, r.name), int(r.points)) for r in await conn.execute(q)]


async def run_scores(conn: Conn, run_id: int) -> list[Score]:
    """The run's standings: points, then who reached them first."""
    c = answers_t.c
    total = func.sum(c.points).label("total")
    q = (
        select(c.member_key, total, func.max(c.at).label("last"), members_t.c.name)
        .join(members_t, members_t.c.key == c.member_key, isouter=True)
        .where(c.run_id == run_id, c.correct.is_(True))
        .group_by(c.member_key, members_t.c.name)
        .having(total > 0)
        .order_by(total.desc(), func.max(c.at), c.member_key)
    )
    return [Score(r.member_key, _name(r.member_key, r.name), int(r.total)) for r in await conn.execute(q)]


async def season_scores(conn: Conn, chat: str, campaigns: list[str], season: str, limit: int) -> list[Score]:
    """Standings of a season in a chat over the given quiz campaigns."""
    a, r = answers_t.c, runs_t.c
    total = func.sum(a.points).label("total")
    q = (
        select(a.member_key, total, members_t.c.name)
        .join(runs_t, r.id == a.run_id)
        .join(members_t, members_t.c.key == a.member_key, isouter=True)
        .where(r.chat_key == chat, r.season == season, r.campaign.in_(campaigns), a.correct.is_(True))
        .group_by(a.member_key, members_t.c.name)
        .having(total > 0)
        .order_by(total.desc(), func.max(a.at), a.member_key)
        .limit(limit)
    )
    return [Score(row.member_key, _name(row.member_key, row.name), int(row.total)) for row in await conn.execute(q)]


# --- prizes -------------------------------------------------------------------------------------


async def prize_given(conn: Conn, run_id: int, rank: int) -> bool:
    c = prizes_t.c
    return (await conn.execute(select(c.id).where(c.run_id == run_id, c.rank == rank))).first() is not None


async def add_prize(
    conn: Conn, *, run_id: int, member: str, rank: int, points: int, coupon: str | None, at: datetime
) -> None:
    """Record a prize; the unique keys refuse a second one for the same rank or member."""
    row = dict(run_id=run_id, member_key=member, rank=rank, points=points, coupon=coupon, at=at)
    await conn.execute(insert(prizes_t).values(**row))
