"""Moving a mailbox in over IMAP: the import jobs and the ledger of messages already brought in

`imports`: one row per run of `smb-suite import imap` (or the admin form): where from, how far (messages and
bytes done / total), its state and last error. `imported_messages`: each source message brought in, keyed by
the mailbox it went to, the source (host, port, user), the source folder, its UIDVALIDITY and UID; the row is
inserted in the transaction that indexes the message, so a run resumed after a crash skips exactly what is in.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(600), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("messages_total", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("bytes_total", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("messages_done", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("bytes_done", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("started", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "imported_messages",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(600), nullable=False),
        sa.Column("folder", sa.String(1000), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id", "source", "folder", "uidvalidity", "uid"),
    )


def downgrade() -> None:
    op.drop_table("imported_messages")
    op.drop_table("imports")
