"""SQLAlchemy tables. The schema is owned by the Alembic migrations in ``storage/migrations``.

Times are stored as timezone-aware UTC (``UtcDateTime``), so SQLite and PostgreSQL hand
back the same values. Keys are strings ``platform:id``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps naive text, PostgreSQL timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


BigId = BigInteger().with_variant(Integer, "sqlite")  # SQLite wants INTEGER for rowid aliases


class Base(DeclarativeBase):
    pass


class ProcessedEvent(Base):
    """Every event the engine committed; the unique key makes redelivery a no-op."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("platform", "self_id", "event_id", name="uq_processed_event"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(32))
    self_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Chat(Base):
    __tablename__ = "chats"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Member(Base):
    __tablename__ = "members"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(300), default="")
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime)


class Membership(Base):
    __tablename__ = "memberships"

    chat_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    member_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    invite_code: Mapped[str | None] = mapped_column(String(200), nullable=True)
    invited_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    invite_confidence: Mapped[str | None] = mapped_column(String(16), nullable=True)


class Checkin(Base):
    """One check-in per campaign, chat, member and group-local day."""

    __tablename__ = "checkins"
    __table_args__ = (UniqueConstraint("campaign", "chat_key", "member_key", "day", name="uq_checkin_day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign: Mapped[str] = mapped_column(String(100))
    chat_key: Mapped[str] = mapped_column(String(200))
    member_key: Mapped[str] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    streak: Mapped[int] = mapped_column(Integer)
    event_ref: Mapped[str] = mapped_column(String(300))


class LedgerEntry(Base):
    """Append-only points ledger: every row names the event that caused it."""

    __tablename__ = "ledger"
    __table_args__ = (Index("ix_ledger_member", "member_key", "chat_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    member_key: Mapped[str] = mapped_column(String(200))
    chat_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    campaign: Mapped[str] = mapped_column(String(100))
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(100))
    event_ref: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxMessage(Base):
    """A durable outgoing action. Sent only after the transaction that made it committed."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "platform", "not_before"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    platform_message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    event_ref: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # a merged send: the id of the group's first row, on every row of the group (bot/sender.py)
    merged_into: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ScheduleFire(Base):
    """Each scheduled fire, recorded once: fired or skipped (missed beyond the grace)."""

    __tablename__ = "schedule_fires"

    campaign: Mapped[str] = mapped_column(String(100), primary_key=True)
    chat_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fire_time: Mapped[datetime] = mapped_column(UtcDateTime, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Timer(Base):
    """A one-off timer a campaign set (qualify a referral in 24 h, end a quiz question, ...).

    ``key`` is chosen by the campaign and unique, so setting the same timer twice (a
    redelivered event) is a no-op; the fire becomes the event ``timer:{key}``.
    """

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    campaign: Mapped[str] = mapped_column(String(100))
    chat_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    member_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, fired, cancelled
    event_ref: Mapped[str | None] = mapped_column(String(300), nullable=True)


class AdapterState(Base):
    """Small durable values an adapter keeps (poll offsets, cursors)."""

    __tablename__ = "adapter_state"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SandboxMessage(Base):
    """The sandbox platform's own chat log (it plays the platform, so it keeps the history)."""

    __tablename__ = "sandbox_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_key: Mapped[str] = mapped_column(String(200), index=True)
    sender: Mapped[str] = mapped_column(String(200))
    sender_name: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


# --- admin commands, welcome flows and keyword rules (issue 7) ----------------------------------


class AuditEntry(Base):
    """One admin command an admin ran, with its effect (written in the command's transaction)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_chat", "chat_key", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    chat_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    command: Mapped[str] = mapped_column(String(64))
    args: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(16))  # done, usage, rejected
    effect: Mapped[str] = mapped_column(Text, default="")
    event_ref: Mapped[str] = mapped_column(String(300))


class CampaignSwitch(Base):
    """``/campaign start|stop``: overrides the config's ``enabled`` until switched again."""

    __tablename__ = "campaign_switches"

    campaign: Mapped[str] = mapped_column(String(100), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class Broadcast(Base):
    """A ``/broadcast``: its messages are outbox rows of the same event; progress is read from them."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    by: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(200))  # chat key (or member key for a direct message)
    content: Mapped[str] = mapped_column(Text)
    targets: Mapped[list] = mapped_column(JSON, default=list)
    event_ref: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default="sending")  # sending, done
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class WelcomeMember(Base):
    """A newcomer as a welcome campaign sees them: verification state and the join that muted them."""

    __tablename__ = "welcome_members"

    campaign: Mapped[str] = mapped_column(String(100), primary_key=True)
    chat_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    member_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16))  # open, pending, passed, failed, kicked, left
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime)
    join_ref: Mapped[str] = mapped_column(String(300))
    timer: Mapped[str | None] = mapped_column(String(300), nullable=True)
    answer: Mapped[str | None] = mapped_column(String(16), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class WelcomeQueue(Base):
    """Newcomers waiting for the next batched challenge or welcome message of their chat."""

    __tablename__ = "welcome_queue"
    __table_args__ = (Index("ix_welcome_queue_open", "campaign", "chat_key", "stage"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign: Mapped[str] = mapped_column(String(100))
    chat_key: Mapped[str] = mapped_column(String(200))
    member_key: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(16))  # challenge, welcome
    batch: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(300), default="")
    inviter: Mapped[str | None] = mapped_column(String(300), nullable=True)
    group_title: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class OnboardingState(Base):
    """A member's onboarding sequence: opted in or not, and the next step to send."""

    __tablename__ = "onboarding"

    campaign: Mapped[str] = mapped_column(String(100), primary_key=True)
    chat_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    member_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean)
    step: Mapped[int] = mapped_column(Integer, default=0)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RuleHit(Base):
    """Each time a keyword rule fired for a member: the source of cooldowns and daily caps."""

    __tablename__ = "rule_hits"
    __table_args__ = (
        Index("ix_rule_hits_member", "rule", "chat_key", "member_key", "at"),
        Index("ix_rule_hits_chat", "rule", "chat_key", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(100))
    chat_key: Mapped[str] = mapped_column(String(200))
    member_key: Mapped[str] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class MemberTag(Base):
    """A tag a rule put on a member in a chat (for segments and later targeting)."""

    __tablename__ = "member_tags"

    chat_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    member_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    tag: Mapped[str] = mapped_column(String(100), primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- the official QQ bot adapter: its tables live in storage/qq_models.py ------------------------
from storage import qq_models as _qq_models  # noqa: E402, F401  (registers the tables)

# --- quizzes, polls and feedback: their tables live in storage/quiz_models.py (same Base) ---------
from storage import quiz_models as _quiz_models  # noqa: E402, F401  (registers the tables)

# --- referrals, invite links and coupon pools: their tables live in storage/referral_models.py ----
from storage import referral_models as _referral_models  # noqa: E402, F401  (registers the tables)

# --- WeCom customer groups: rosters, callbacks, join ways, broadcasts (storage/wecom_models.py) ---
from storage import wecom_models as _wecom_models  # noqa: E402, F401  (registers the tables)
