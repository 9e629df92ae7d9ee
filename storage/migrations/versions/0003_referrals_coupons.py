"""referrals, invite links and coupon pools (issue 6)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:23:20.384973
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coupon_codes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("pool", sa.String(length=60), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("added_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("member_key", sa.String(length=200), nullable=True),
        sa.Column("chat_key", sa.String(length=200), nullable=True),
        sa.Column("campaign", sa.String(length=100), nullable=True),
        sa.Column("assigned_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("event_ref", sa.String(length=300), nullable=True),
        sa.Column("redeemed_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("redeemed_by", sa.String(length=200), nullable=True),
        sa.Column("voided_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.String(length=60), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", name="uq_coupon_code"),
    )
    with op.batch_alter_table("coupon_codes", schema=None) as batch_op:
        batch_op.create_index("ix_coupon_codes_claim", ["pool", "status", "id"], unique=False)
        batch_op.create_index("ix_coupon_codes_member", ["member_key"], unique=False)

    op.create_table(
        "coupon_shortfalls",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("pool", sa.String(length=60), nullable=False),
        sa.Column("member_key", sa.String(length=200), nullable=False),
        sa.Column("chat_key", sa.String(length=200), nullable=True),
        sa.Column("campaign", sa.String(length=100), nullable=False),
        sa.Column("at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("event_ref", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("coupon_shortfalls", schema=None) as batch_op:
        batch_op.create_index("ix_coupon_shortfalls_pool", ["pool"], unique=False)

    op.create_table(
        "invite_links",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("chat_key", sa.String(length=200), nullable=False),
        sa.Column("member_key", sa.String(length=200), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("requested_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chat_key", "member_key", name="uq_invite_link_member"),
    )
    with op.batch_alter_table("invite_links", schema=None) as batch_op:
        batch_op.create_index("ix_invite_links_link", ["link"], unique=False)

    op.create_table(
        "once_keys",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "referral_refusals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("campaign", sa.String(length=100), nullable=False),
        sa.Column("chat_key", sa.String(length=200), nullable=False),
        sa.Column("invitee", sa.String(length=200), nullable=False),
        sa.Column("inviter", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("event_ref", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("referral_refusals", schema=None) as batch_op:
        batch_op.create_index("ix_referral_refusals", ["campaign", "inviter"], unique=False)

    op.create_table(
        "referral_rewards",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("campaign", sa.String(length=100), nullable=False),
        sa.Column("slot", sa.String(length=300), nullable=False),
        sa.Column("referral_id", sa.BigInteger(), nullable=False),
        sa.Column("member_key", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("pool", sa.String(length=60), nullable=True),
        sa.Column("coupon_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("event_ref", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign", "slot", name="uq_referral_reward_slot"),
    )
    with op.batch_alter_table("referral_rewards", schema=None) as batch_op:
        batch_op.create_index("ix_referral_rewards_member", ["campaign", "member_key"], unique=False)
        batch_op.create_index("ix_referral_rewards_referral", ["referral_id"], unique=False)

    op.create_table(
        "referrals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("campaign", sa.String(length=100), nullable=False),
        sa.Column("chat_key", sa.String(length=200), nullable=False),
        sa.Column("invitee", sa.String(length=200), nullable=False),
        sa.Column("inviter", sa.String(length=200), nullable=False),
        sa.Column("invite_code", sa.String(length=200), nullable=True),
        sa.Column("confidence", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("joined_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("qualified_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("join_ref", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign", "invitee", name="uq_referral_invitee"),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index("ix_referrals_inviter", ["campaign", "inviter", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index("ix_referrals_inviter")

    op.drop_table("referrals")
    with op.batch_alter_table("referral_rewards", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_rewards_referral")
        batch_op.drop_index("ix_referral_rewards_member")

    op.drop_table("referral_rewards")
    with op.batch_alter_table("referral_refusals", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_refusals")

    op.drop_table("referral_refusals")
    op.drop_table("once_keys")
    with op.batch_alter_table("invite_links", schema=None) as batch_op:
        batch_op.drop_index("ix_invite_links_link")

    op.drop_table("invite_links")
    with op.batch_alter_table("coupon_shortfalls", schema=None) as batch_op:
        batch_op.drop_index("ix_coupon_shortfalls_pool")

    op.drop_table("coupon_shortfalls")
    with op.batch_alter_table("coupon_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_coupon_codes_member")
        batch_op.drop_index("ix_coupon_codes_claim")

    op.drop_table("coupon_codes")
