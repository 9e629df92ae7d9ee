"""Tables of referral campaigns, members' invite links and coupon pools (issue 6).

They share :class:`storage.models.Base`; ``storage/models.py`` imports this module so the
tables are part of the one metadata the migrations and the engine use.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, BigId, UtcDateTime


class InviteLink(Base):
    """A member's personal invite link to a chat, as the platform made it for the bot.

    The row is written when a member asks (``requested_at``) and completed by the sender when
    the platform answered (``link``), so ``/invite`` hands out the same link every time.
    """

    __tablename__ = "invite_links"
    __table_args__ = (
        UniqueConstraint("chat_key", "member_key", name="uq_invite_link_member"),
        Index("ix_invite_links_link", "link"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_key: Mapped[str] = mapped_column(String(200))
    member_key: Mapped[str] = mapped_column(String(200))
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Referral(Base):
    """An attributed join a referral campaign tracks: one per campaign and invitee, ever."""

    __tablename__ = "referrals"
    __table_args__ = (
        UniqueConstraint("campaign", "invitee", name="uq_referral_invitee"),
        Index("ix_referrals_inviter", "campaign", "inviter", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign: Mapped[str] = mapped_column(String(100))
    chat_key: Mapped[str] = mapped_column(String(200))
    invitee: Mapped[str] = mapped_column(String(200))
    inviter: Mapped[str] = mapped_column(String(200))
    invite_code: Mapped[str | None] = mapped_column(String(200), nullable=True)
    confidence: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # pending, qualified, refused, left, clawed_back
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime)
    qualified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    join_ref: Mapped[str] = mapped_column(String(300))


class ReferralRefusal(Base):
    """Append-only log of joins a referral campaign did not pay for, with the reason."""

    __tablename__ = "referral_refusals"
    __table_args__ = (Index("ix_referral_refusals", "campaign", "inviter"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign: Mapped[str] = mapped_column(String(100))
    chat_key: Mapped[str] = mapped_column(String(200))
    invitee: Mapped[str] = mapped_column(String(200))
    inviter: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reason: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    event_ref: Mapped[str] = mapped_column(String(300))


class ReferralReward(Base):
    """One reward a referral paid (points or a coupon); ``slot`` makes each payable once."""

    __tablename__ = "referral_rewards"
    __table_args__ = (
        UniqueConstraint("campaign", "slot", name="uq_referral_reward_slot"),
        Index("ix_referral_rewards_member", "campaign", "member_key"),
        Index("ix_referral_rewards_referral", "referral_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign: Mapped[str] = mapped_column(String(100))
    slot: Mapped[str] = mapped_column(String(300))
    referral_id: Mapped[int] = mapped_column(BigInteger)
    member_key: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # inviter, invitee, tier
    kind: Mapped[str] = mapped_column(String(16))  # points, coupon
    points: Mapped[int] = mapped_column(Integer, default=0)
    pool: Mapped[str | None] = mapped_column(String(60), nullable=True)
    coupon_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # granted, shortfall, over_budget, clawed_back
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    event_ref: Mapped[str] = mapped_column(String(300))


class CouponCode(Base):
    """One coupon code of a pool; given to at most one member, once."""

    __tablename__ = "coupon_codes"
    __table_args__ = (
        UniqueConstraint("code", name="uq_coupon_code"),
        Index("ix_coupon_codes_claim", "pool", "status", "id"),
        Index("ix_coupon_codes_member", "member_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    pool: Mapped[str] = mapped_column(String(60))
    code: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16))  # available, assigned, redeemed, voided
    source: Mapped[str] = mapped_column(String(16))  # imported, generated, simulated
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # the code's own end
    member_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    chat_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    campaign: Mapped[str | None] = mapped_column(String(100), nullable=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    event_ref: Mapped[str | None] = mapped_column(String(300), nullable=True)
    redeemed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    redeemed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    void_reason: Mapped[str | None] = mapped_column(String(60), nullable=True)


class CouponShortfall(Base):
    """A coupon a member was owed when the pool was empty (recorded instead of failing)."""

    __tablename__ = "coupon_shortfalls"
    __table_args__ = (Index("ix_coupon_shortfalls_pool", "pool"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    pool: Mapped[str] = mapped_column(String(60))
    member_key: Mapped[str] = mapped_column(String(200))
    chat_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    campaign: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    event_ref: Mapped[str] = mapped_column(String(300))


class OnceKey(Base):
    """Things done once: an alert sent (pool low, budget spent), a pool topped up to a size."""

    __tablename__ = "once_keys"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
