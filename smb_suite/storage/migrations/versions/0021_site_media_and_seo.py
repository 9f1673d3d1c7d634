"""A media library per site, a cover picture, and a search-result title per page

`site_media`: pictures a business uploaded for a domain's site, already checked and rewritten (sites/media.py):
the screen version, the phone version of raster pictures, the required alt text; their bytes are charged to the
business's quota when uploaded and released when deleted. Ids are never reused (they name published files).
`site_settings.cover_id`: the picture at the top of the home page, also the Open Graph image.
`site_pages.seo_title`: the title search engines show (the page's title when empty).

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(50), nullable=False),
        sa.Column("alt", sa.String(300), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("phone", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["domain_id"], ["domains.id"]),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_site_media_domain_id", "site_media", ["domain_id"])
    op.add_column("site_settings", sa.Column("cover_id", sa.Integer(), nullable=True))
    op.add_column("site_pages", sa.Column("seo_title", sa.String(200), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("site_pages") as batch_op:
        batch_op.drop_column("seo_title")
    with op.batch_alter_table("site_settings") as batch_op:
        batch_op.drop_column("cover_id")
    op.drop_index("ix_site_media_domain_id", table_name="site_media")
    op.drop_table("site_media")
