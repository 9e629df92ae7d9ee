"""Queries of polls and feedback rounds: runs, votes, free-text answers and their export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from storage.models import OutboxMessage
from storage.quiz_models import FeedbackAnswer, PollRun, PollVote
from storage.tx import Conn

runs_t = PollRun.__table__
votes_t = PollVote.__table__
answers_t = FeedbackAnswer.__table__
outbox_t = OutboxMessage.__table__


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    campaign: str
    chat: str
    kind: str
    question: str
    options: list[str]
    style: str
    status: str
    opened_at: datetime
    closes_at: datetime


def _run(row: Any) -> Run:
    return Run(
        row.id,
        row.campaign,
        row.chat_key,
        row.kind,
        row.question,
        list(row.options or []),
        row.style,
        row.status,
        row.opened_at,
        row.closes_at,
    )


async def create(
    conn: Conn,
    *,
    campaign: str,
    chat: str,
    kind: str,
    question: str,
    options: list[str],
    style: str,
    opened_at: datetime,
    closes_at: datetime,
    open_ref: str,
) -> int:
    values = dict(
        campaign=campaign,
        chat_key=chat,
        kind=kind,
        question=question,
        options=options,
        style=style,
        status="open",
        opened_at=opened_at,
        closes_at=closes_at,
        open_ref=open_ref,
    )
    return int((await conn.execute(insert(runs_t).values(**values))).inserted_primary_key[0])  # type: ignore[index]


async def get(conn: Conn, run_id: int) -> Run | None:
    row = (await conn.execute(select(runs_t).where(runs_t.c.id == run_id))).first()
    return _run(row) if row else None


async def open_runs(conn: Conn, chat: str, kind: str) -> list[Run]:
    """Open runs of ``kind`` in ``chat``, the most recently opened first."""
    c = runs_t.c
    q = select(runs_t).where(c.chat_key == chat, c.kind == kind, c.status == "open").order_by(c.id.desc())
    return [_run(r) for r in await conn.execute(q)]


async def close(conn: Conn, run_id: int, at: datetime) -> bool:
    """Close an open run; False if it was closed already."""
    c = runs_t.c
    result = await conn.execute(
        update(runs_t).where(c.id == run_id, c.status == "open").values(status="closed", closed_at=at)
    )
    return bool(result.rowcount)


async def by_native_poll(conn: Conn, platform: str, poll_id: str) -> Run | None:
    """The run whose native poll the platform knows as ``poll_id`` (the id its send returned)."""
    o = outbox_t.c
    q = (
        select(o.event_ref, o.target)
        .where(o.platform == platform, o.action == "send_poll", o.platform_message_id == poll_id)
        .order_by(o.id.desc())
        .limit(1)
    )
    sent = (await conn.execute(q)).first()
    if sent is None:
        return None
    c = runs_t.c
    row = (await conn.execute(select(runs_t).where(c.open_ref == sent.event_ref, c.chat_key == sent.target))).first()
    return _run(row) if row else None


# --- votes --------------------------------------------------------------------------------------


async def vote_of(conn: Conn, run_id: int, member: str) -> int | None:
    c = votes_t.c
    return (await conn.execute(select(c.option).where(c.run_id == run_id, c.member_key == member))).scalar()


async def add_vote(conn: Conn, run_id: int, member: str, option: int, at: datetime) -> None:
    await conn.execute(insert(votes_t).values(run_id=run_id, member_key=member, option=option, at=at))


async def change_vote(conn: Conn, run_id: int, member: str, option: int, at: datetime) -> None:
    c = votes_t.c
    await conn.execute(
        update(votes_t).where(c.run_id == run_id, c.member_key == member).values(option=option, changed_at=at)
    )


async def drop_vote(conn: Conn, run_id: int, member: str) -> None:
    c = votes_t.c
    await conn.execute(delete(votes_t).where(c.run_id == run_id, c.member_key == member))


async def tally(conn: Conn, run_id: int) -> dict[int, int]:
    """Votes per option (0-based)."""
    c = votes_t.c
    rows = await conn.execute(select(c.option, func.count()).where(c.run_id == run_id).group_by(c.option))
    return {int(option): int(count) for option, count in rows}


# --- feedback -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Feedback:
    text: str | None
    waiting_until: datetime | None


async def feedback_of(conn: Conn, run_id: int, member: str) -> Feedback | None:
    c = answers_t.c
    q = select(c.text, c.waiting_until).where(c.run_id == run_id, c.member_key == member)
    row = (await conn.execute(q)).first()
    return Feedback(row.text, row.waiting_until) if row else None


async def waiting(conn: Conn, run_ids: list[int], member: str, at: datetime) -> int | None:
    """The run (of ``run_ids``) whose answer the member opted to write now, if any."""
    c = answers_t.c
    q = (
        select(c.run_id)
        .where(c.run_id.in_(run_ids), c.member_key == member, c.waiting_until.is_not(None), c.waiting_until >= at)
        .order_by(c.waiting_until.desc())
        .limit(1)
    )
    return (await conn.execute(q)).scalar()


async def save_feedback(
    conn: Conn,
    *,
    run_id: int,
    member: str,
    name: str,
    text: str | None,
    waiting_until: datetime | None,
    at: datetime | None,
    exists: bool,
) -> None:
    """Store the member's answer (``text``) or their opt-in (``waiting_until``)."""
    values: dict[str, Any] = dict(member_name=name[:300], waiting_until=waiting_until)
    if text is not None:
        values.update(text=text, answered_at=at)
    if exists:
        c = answers_t.c
        await conn.execute(update(answers_t).where(c.run_id == run_id, c.member_key == member).values(**values))
    else:
        await conn.execute(insert(answers_t).values(run_id=run_id, member_key=member, **values))


async def feedback_count(conn: Conn, run_id: int) -> int:
    c = answers_t.c
    return int((await conn.execute(select(func.count()).where(c.run_id == run_id, c.text.is_not(None)))).scalar_one())


async def feedback_rows(conn: Conn, campaign: str) -> list[Any]:
    """Every answer of a feedback campaign, by round and time, for the CSV export."""
    r, a = runs_t.c, answers_t.c
    q = (
        select(r.id, r.chat_key, r.question, r.opened_at, a.member_key, a.member_name, a.answered_at, a.text)
        .join(runs_t, r.id == a.run_id)
        .where(r.campaign == campaign, r.kind == "feedback", a.text.is_not(None))
        .order_by(r.id, a.answered_at, a.id)
    )
    return list(await conn.execute(q))
