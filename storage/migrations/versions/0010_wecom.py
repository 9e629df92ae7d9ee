"""WeCom customer groups: rosters, callbacks, join ways, broadcasts, daily group figures (issue 10)

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-02 03:30:00
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wecom_broadcasts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("sender", sa.String(length=100), nullable=False),
        sa.Column("msgid", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("checked_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_wecom_broadcasts_chat", "wecom_broadcasts", ["chat_id", "created_at"], unique=False)
    op.create_table(
        "wecom_callbacks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("change", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=32), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("received_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )
    op.create_index("ix_wecom_callbacks_status", "wecom_callbacks", ["status", "id"], unique=False)
    op.create_table(
        "wecom_chats",
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("synced_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id"),
    )
    op.create_table(
        "wecom_group_days",
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("joins", sa.Integer(), nullable=False),
        sa.Column("leaves", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "day"),
    )
    op.create_table(
        "wecom_join_ways",
        sa.Column("config_id", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("campaign", sa.String(length=100), nullable=False),
        sa.Column("referrer", sa.String(length=200), nullable=False),
        sa.Column("chat_ids", sa.JSON(), nullable=False),
        sa.Column("qr_code", sa.Text(), nullable=False),
        sa.Column("created_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("config_id"),
        sa.UniqueConstraint("state"),
    )
    op.create_table(
        "wecom_roster",
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("userid", sa.String(length=100), nullable=False),
        sa.Column("type", sa.Integer(), nullable=False),
        sa.Column("join_time", sa.Integer(), nullable=False),
        sa.Column("join_scene", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=True),
        sa.Column("unionid", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "userid"),
    )


def downgrade() -> None:
    op.drop_index("ix_wecom_callbacks_status", table_name="wecom_callbacks")
    op.drop_index("ix_wecom_broadcasts_chat", table_name="wecom_broadcasts")
    op.drop_table("wecom_roster")
    op.drop_table("wecom_join_ways")
    op.drop_table("wecom_group_days")
    op.drop_table("wecom_chats")
    op.drop_table("wecom_callbacks")
    op.drop_table("wecom_broadcasts")
