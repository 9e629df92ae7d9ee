"""official QQ bot adapter: reply windows, sends, groups, identities, gateway lease

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import storage.models

revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qq_windows",
        sa.Column("self_id", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=300), nullable=False),
        sa.Column("param", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=False),
        sa.Column("opened_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("self_id", "ref"),
    )
    with op.batch_alter_table("qq_windows", schema=None) as batch_op:
        batch_op.create_index("ix_qq_windows_target", ["self_id", "scope", "target", "opened_at"], unique=False)
    op.create_table(
        "qq_sends",
        sa.Column("self_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("ref", sa.String(length=300), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("self_id", "idempotency_key"),
        sa.UniqueConstraint("self_id", "ref", "seq", name="uq_qq_sends_seq"),
    )
    op.create_table(
        "qq_groups",
        sa.Column("self_id", sa.String(length=64), nullable=False),
        sa.Column("group_openid", sa.String(length=128), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=True),
        sa.Column("proactive", sa.Boolean(), nullable=True),
        sa.Column("changed_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("self_id", "group_openid"),
    )
    op.create_table(
        "qq_identities",
        sa.Column("self_id", sa.String(length=64), nullable=False),
        sa.Column("openid", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("group_openid", sa.String(length=128), nullable=True),
        sa.Column("union_openid", sa.String(length=128), nullable=True),
        sa.Column("seen_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("self_id", "openid"),
    )
    with op.batch_alter_table("qq_identities", schema=None) as batch_op:
        batch_op.create_index("ix_qq_identities_union", ["self_id", "union_openid"], unique=False)
    op.create_table(
        "qq_gateway",
        sa.Column("self_id", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("lease_until", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("session_id", sa.String(length=200), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("self_id"),
    )


def downgrade() -> None:
    op.drop_table("qq_gateway")
    with op.batch_alter_table("qq_identities", schema=None) as batch_op:
        batch_op.drop_index("ix_qq_identities_union")
    op.drop_table("qq_identities")
    op.drop_table("qq_groups")
    op.drop_table("qq_sends")
    with op.batch_alter_table("qq_windows", schema=None) as batch_op:
        batch_op.drop_index("ix_qq_windows_target")
    op.drop_table("qq_windows")
