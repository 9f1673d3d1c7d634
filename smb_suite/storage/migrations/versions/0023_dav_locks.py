"""WebDAV locks in the database

`dav_locks`: the locks wsgidav grants on a business's documents (dav/locks.py), shared by every worker process
and node instead of one process's memory.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dav_locks",
        sa.Column("token", sa.String(100), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("root", sa.String(2000), nullable=False),
        sa.Column("expire", sa.Float(), nullable=False),
        sa.Column("lock", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_index("ix_dav_locks_tenant_root", "dav_locks", ["tenant_id", "root"])


def downgrade() -> None:
    op.drop_index("ix_dav_locks_tenant_root", "dav_locks")
    op.drop_table("dav_locks")
