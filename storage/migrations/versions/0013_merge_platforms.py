"""merge the outbox, QQ and WeCom branches

Revision ID: 0013
Revises: 0007_outbox, 0009, 0012
Create Date: 2026-12-02 04:40:00
"""

revision = "0013"
down_revision = ("0007_outbox", "0009", "0012")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: this revision only joins the branches into one line."""


def downgrade() -> None:
    """Nothing to change."""
