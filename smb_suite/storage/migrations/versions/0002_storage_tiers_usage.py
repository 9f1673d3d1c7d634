"""storage tiers usage

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("usage_bytes", sa.BigInteger(), nullable=False),
        sa.Column("limit_bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "day"),
    )
    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_bytes", sa.BigInteger(), server_default="0", nullable=False))

    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warned_percent", sa.Integer(), server_default="0", nullable=False))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("usage_bytes", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("quota_bytes", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("quota_bytes")
        batch_op.drop_column("usage_bytes")

    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("warned_percent")

    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.drop_column("site_bytes")

    op.drop_table("usage_daily")
