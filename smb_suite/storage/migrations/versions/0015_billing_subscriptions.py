"""billing: a subscription per business, its dated changes, and named users' seats by kind

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("start_day", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.ForeignKeyConstraint(["partner_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("tenant_id"),
    )
    op.create_index(op.f("ix_subscriptions_partner_id"), "subscriptions", ["partner_id"], unique=False)
    op.create_table(
        "subscription_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("plan", sa.String(length=50), nullable=True),
        sa.Column("modules", sa.String(length=200), server_default="", nullable=False),
        sa.Column("extensions", sa.String(length=500), server_default="", nullable=False),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_subscription_changes_tenant_id"), "subscription_changes", ["tenant_id"], unique=False)
    op.create_table(
        "billing_seats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("start_day", sa.String(length=10), nullable=False),
        sa.Column("end_day", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_billing_seats_tenant_id"), "billing_seats", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_billing_seats_user_id"), "billing_seats", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("billing_seats")
    op.drop_table("subscription_changes")
    op.drop_table("subscriptions")
