"""uidvalidity high-water mark per user: a folder deleted and created again never gets its old UIDVALIDITY

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_uidvalidity", sa.BigInteger(), server_default="0", nullable=False))
    op.execute("UPDATE users SET last_uidvalidity = COALESCE((SELECT MAX(uidvalidity) FROM mailboxes), 0)")


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("last_uidvalidity")
