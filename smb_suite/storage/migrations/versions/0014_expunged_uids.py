"""expunged UIDs with the mod-sequence of their removal (RFC 7162 QRESYNC), and each folder's floor below which
they may be forgotten (existing folders: everything up to now)

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "expunged",
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("modseq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["mailbox_id"], ["mailboxes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("mailbox_id", "uid"),
    )
    op.create_index("ix_expunged_mailbox_modseq", "expunged", ["mailbox_id", "modseq"], unique=False)
    # plain ADD COLUMN: the table (and its AUTOINCREMENT from 0009) stays as it is
    op.add_column("mailboxes", sa.Column("vanished_floor", sa.BigInteger(), server_default="0", nullable=False))
    op.execute("UPDATE mailboxes SET vanished_floor = highestmodseq")  # earlier expunges were not remembered


def downgrade() -> None:
    with op.batch_alter_table("mailboxes", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("vanished_floor")
    op.drop_index("ix_expunged_mailbox_modseq", table_name="expunged")
    op.drop_table("expunged")
