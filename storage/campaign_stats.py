"""Campaign results in one chat over a time window, for ``/stats``: the referral funnel,
coupons given, quizzes run and polls held (points per campaign come from the ledger, in
:mod:`storage.activity`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import distinct, func, select

from storage.quiz_models import PollRun, PollVote, QuizAnswer, QuizRun
from storage.referral_models import CouponCode, Referral
from storage.tx import Conn

referrals_t = Referral.__table__
codes_t = CouponCode.__table__
runs_t = QuizRun.__table__
answers_t = QuizAnswer.__table__
polls_t = PollRun.__table__
votes_t = PollVote.__table__


@dataclass(frozen=True, slots=True)
class CampaignResults:
    referrals: dict[str, int] = field(default_factory=dict)  # joins through invites, by status
    coupons: int = 0  # coupon codes given to members of the chat
    quizzes: int = 0  # quiz runs started
    quiz_players: int = 0  # members who answered at least once in them
    polls: int = 0  # poll rounds opened (feedback rounds not counted)
    poll_votes: int = 0

    @property
    def any(self) -> bool:
        return bool(self.referrals or self.coupons or self.quizzes or self.polls)


async def campaign_results(conn: Conn, chat: str, since: datetime) -> CampaignResults:
    """What the chat's campaigns did from ``since``: a few grouped counts."""
    r = referrals_t.c
    q = select(r.status, func.count()).where(r.chat_key == chat, r.joined_at >= since).group_by(r.status)
    referrals = {str(status): int(n) for status, n in await conn.execute(q)}
    c = codes_t.c
    q = select(func.count()).select_from(codes_t).where(c.chat_key == chat, c.assigned_at >= since)
    coupons = int((await conn.execute(q)).scalar_one())
    runs = select(runs_t.c.id).where(runs_t.c.chat_key == chat, runs_t.c.started_at >= since).subquery()
    quizzes = int((await conn.execute(select(func.count()).select_from(runs))).scalar_one())
    q = select(func.count(distinct(answers_t.c.member_key))).where(answers_t.c.run_id.in_(select(runs.c.id)))
    players = int((await conn.execute(q)).scalar_one())
    p = polls_t.c
    polls = select(p.id).where(p.chat_key == chat, p.kind == "poll", p.opened_at >= since).subquery()
    poll_count = int((await conn.execute(select(func.count()).select_from(polls))).scalar_one())
    q = select(func.count()).select_from(votes_t).where(votes_t.c.run_id.in_(select(polls.c.id)))
    votes = int((await conn.execute(q)).scalar_one())
    return CampaignResults(referrals, coupons, quizzes, players, poll_count, votes)
