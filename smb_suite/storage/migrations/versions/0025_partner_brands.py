"""white label: a partner's brand (name, colour, support contacts, logo, platform domain for sign-ups)

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "brands",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("colour", sa.String(length=7), nullable=False),
        sa.Column("support_email", sa.String(length=320), server_default="", nullable=False),
        sa.Column("support_phone", sa.String(length=40), server_default="", nullable=False),
        sa.Column("platform_domain", sa.String(length=253), nullable=True),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_type", sa.String(length=20), server_default="", nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("tenant_id"),
        sa.UniqueConstraint("platform_domain"),
    )


def downgrade() -> None:
    op.drop_table("brands")
