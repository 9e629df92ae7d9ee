"""WeCom: staff's commands to the app (/joinway), stored before WeCom's success and answered once

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-02 04:00:00
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wecom_staff_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("msg_id", sa.String(length=64), nullable=False),
        sa.Column("userid", sa.String(length=100), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("received_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("config_id", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("msg_id"),
    )
    op.create_index("ix_wecom_staff_messages_status", "wecom_staff_messages", ["status", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_wecom_staff_messages_status", table_name="wecom_staff_messages")
    op.drop_table("wecom_staff_messages")
