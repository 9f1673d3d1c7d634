"""Automatic certificates (ACME, RFC 8555): their state per subject and the HTTP-01 answers of pending orders

`certificates`: one row per subject ("host" or "domain-<id>", also the folder of its files), the names it
covers, its expiry, and the failures of its last attempts with the time of the next one (back-off).
`acme_challenges`: token -> key authorization while an order waits, so any worker or node answers port 80.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("subject", sa.String(40), nullable=False),
        sa.Column("names", sa.String(2000), nullable=False),
        sa.Column("not_after", sa.BigInteger(), nullable=True),
        sa.Column("issued_at", sa.BigInteger(), nullable=True),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.String(1000), server_default="", nullable=False),
        sa.Column("next_attempt", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("subject"),
    )
    op.create_table(
        "acme_challenges",
        sa.Column("token", sa.String(200), nullable=False),
        sa.Column("key_authorization", sa.String(400), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )


def downgrade() -> None:
    op.drop_table("acme_challenges")
    op.drop_table("certificates")
