"""Tables of quizzes, polls and feedback (``campaigns/quiz.py``, ``poll.py``, ``feedback.py``).

They share :class:`storage.models.Base`; ``storage/models.py`` imports this module so the
tables are part of the one metadata the migrations and the engine use.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId, UtcDateTime


class QuizRun(Base):
    """One run of a quiz in one chat: the planned questions and where the run stands."""

    __tablename__ = "quiz_runs"
    __table_args__ = (Index("ix_quiz_runs_chat", "chat_key", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign: Mapped[str] = mapped_column(String(100))
    chat_key: Mapped[str] = mapped_column(String(200))
    season: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(16))  # running, finished, stopped
    phase: Mapped[str] = mapped_column(String(16))  # asking, between, done
    plan: Mapped[list] = mapped_column(JSON)  # [[question key, cycle], ...]
    position: Mapped[int] = mapped_column(Integer, default=0)  # the current (or next) question
    asked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    started_by: Mapped[str | None] = mapped_column(String(200), nullable=True)  # None: the schedule


class QuizAsked(Base):
    """Questions asked per quiz and chat, by cycle: none repeats until the bank is used up."""

    __tablename__ = "quiz_asked"
    __table_args__ = (UniqueConstraint("campaign", "chat_key", "cycle", "question", name="uq_quiz_asked"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign: Mapped[str] = mapped_column(String(100))
    chat_key: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(String(80))
    cycle: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[int] = mapped_column(BigInteger)
    asked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class QuizAnswer(Base):
    """A member's answer to one question of a run: one row per member and question."""

    __tablename__ = "quiz_answers"
    __table_args__ = (UniqueConstraint("run_id", "position", "member_key", name="uq_quiz_answer"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer)
    member_key: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    correct: Mapped[bool] = mapped_column(Boolean, default=False)
    points: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class QuizPrize(Base):
    """A prize granted at the end of a run; the unique keys make granting it twice impossible."""

    __tablename__ = "quiz_prizes"
    __table_args__ = (
        UniqueConstraint("run_id", "rank", name="uq_quiz_prize_rank"),
        UniqueConstraint("run_id", "member_key", name="uq_quiz_prize_member"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(BigInteger)
    member_key: Mapped[str] = mapped_column(String(200))
    rank: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer, default=0)
    coupon: Mapped[str | None] = mapped_column(String(300), nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class PollRun(Base):
    """One opening of a poll or feedback campaign in one chat, with what it asked."""

    __tablename__ = "poll_runs"
    __table_args__ = (Index("ix_poll_runs_chat", "chat_key", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign: Mapped[str] = mapped_column(String(100))
    chat_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # poll, feedback
    question: Mapped[str] = mapped_column(Text)
    options: Mapped[list] = mapped_column(JSON, default=list)
    style: Mapped[str] = mapped_column(String(16))  # native, buttons, numbers
    status: Mapped[str] = mapped_column(String(16))  # open, closed
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    open_ref: Mapped[str] = mapped_column(String(300))  # the event that opened it (and sent it)


class PollVote(Base):
    """A member's vote in a poll run: one per member (changed in place when allowed)."""

    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("run_id", "member_key", name="uq_poll_vote"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(BigInteger)
    member_key: Mapped[str] = mapped_column(String(200))
    option: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class FeedbackAnswer(Base):
    """A member's free-text feedback in a run (``text`` is empty while they are still writing)."""

    __tablename__ = "feedback_answers"
    __table_args__ = (UniqueConstraint("run_id", "member_key", name="uq_feedback_answer"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(BigInteger)
    member_key: Mapped[str] = mapped_column(String(200))
    member_name: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    waiting_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
