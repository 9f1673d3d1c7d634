"""re-render message summaries (ENVELOPE groups and comments, no space between bodies and addresses, line counts)

The stored ENVELOPE/BODYSTRUCTURE/BODY wire forms and search texts changed (issue 13): old rows are dropped, and
FETCH summarises those messages again from their files and keeps the new rows (imap/fetch.py, keep_summaries).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM message_meta"))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM message_meta"))  # the older rendering is computed again on demand too
