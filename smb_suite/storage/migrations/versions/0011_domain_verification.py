"""domain ownership verification: a token per domain and when it was verified (existing domains: verified)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: the table (and its AUTOINCREMENT from 0009) stays as it is
    op.add_column("domains", sa.Column("verification_token", sa.String(64), server_default="", nullable=False))
    op.add_column("domains", sa.Column("verified_at", sa.BigInteger(), nullable=True))
    op.execute("UPDATE domains SET verified_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("domains", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("verified_at")
        batch_op.drop_column("verification_token")
