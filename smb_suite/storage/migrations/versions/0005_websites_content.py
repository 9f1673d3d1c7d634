"""websites content

Revision ID: 0005
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=300), server_default="", nullable=False),
        sa.Column("body", sa.Text(), server_default="", nullable=False),
        sa.Column("layout", sa.String(length=50), server_default="", nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("in_navigation", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("domain_id", "slug"),
    )
    with op.batch_alter_table("site_pages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_pages_domain_id"), ["domain_id"], unique=False)

    op.create_table(
        "site_settings",
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("theme", sa.String(length=100), nullable=False),
        sa.Column("colour", sa.String(length=50), server_default="", nullable=False),
        sa.Column("lang", sa.String(length=20), server_default="en", nullable=False),
        sa.Column("business_name", sa.String(length=200), nullable=False),
        sa.Column("tagline", sa.String(length=300), server_default="", nullable=False),
        sa.Column("description", sa.String(length=500), server_default="", nullable=False),
        sa.Column("address", sa.String(length=500), server_default="", nullable=False),
        sa.Column("phone", sa.String(length=50), server_default="", nullable=False),
        sa.Column("email", sa.String(length=320), server_default="", nullable=False),
        sa.Column("opening_hours", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("contact_form", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_type", sa.String(length=50), server_default="", nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
        ),
        sa.PrimaryKeyConstraint("domain_id"),
    )


def downgrade() -> None:
    op.drop_table("site_settings")
    with op.batch_alter_table("site_pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_pages_domain_id"))

    op.drop_table("site_pages")
