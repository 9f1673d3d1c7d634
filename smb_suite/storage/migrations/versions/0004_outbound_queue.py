"""outbound queue, forwarding, vacation, catch-all

Revision ID: 0004
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
# Chain on main: 0002 -> 0003 (DKIM keys) -> 0005 (websites) -> 0004 (this one): one head.
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.String(length=32), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("delay_notified", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("queue_id"),
    )
    op.create_table(
        "queue_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=False),
        sa.Column("last_reply", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("remote_mta", sa.String(length=253), server_default="", nullable=False),
        sa.Column("reported", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["queue_messages.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("queue_recipients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queue_recipients_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_queue_recipients_next_attempt_at"), ["next_attempt_at"], unique=False)

    op.create_table(
        "vacation_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("replied_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "sender"),
    )
    op.create_table(
        "vacations",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("user_id"),
    )
    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.add_column(sa.Column("catchall", sa.String(length=320), nullable=True))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forward_to", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("forward_keep_copy", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("forward_keep_copy")
        batch_op.drop_column("forward_to")

    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.drop_column("catchall")

    op.drop_table("vacations")
    op.drop_table("vacation_replies")
    with op.batch_alter_table("queue_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queue_recipients_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_queue_recipients_message_id"))

    op.drop_table("queue_recipients")
    op.drop_table("queue_messages")
