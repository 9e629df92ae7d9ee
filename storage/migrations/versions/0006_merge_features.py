"""merge the referral, quiz and admin branches

Revision ID: 0006
Revises: 0003, 0004, 0005
Create Date: 2026-12-02 03:20:00
"""

revision = "0006"
down_revision = ("0003", "0004", "0005")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: this revision only joins the three feature branches into one line."""


def downgrade() -> None:
    """Nothing to change."""
