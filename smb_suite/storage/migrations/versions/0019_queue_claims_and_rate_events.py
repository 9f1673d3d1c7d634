"""Worker processes: queue claims and shared hourly allowances

`queue_messages.claimed_by` / `claimed_until`: the worker ("<host>:<pid>") that sends a message, so that with
several workers (or nodes) each message is sent by exactly one (queue/spool.py claim).

`rate_events`: the contact form's and sign-up's hourly allowances per client address, counted in the database
instead of one process's memory (auth/ratelimit.py).

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("queue_messages", sa.Column("claimed_by", sa.String(300), nullable=True))
    op.add_column("queue_messages", sa.Column("claimed_until", sa.BigInteger(), server_default="0", nullable=False))
    op.create_table(
        "rate_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rate_events_key", "rate_events", ["key"])
    op.create_index("ix_rate_events_at", "rate_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_rate_events_at", "rate_events")
    op.drop_index("ix_rate_events_key", "rate_events")
    op.drop_table("rate_events")
    with op.batch_alter_table("queue_messages") as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
