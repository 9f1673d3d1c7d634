"""message references: the References fields of each message, kept with its summary for THREAD (RFC 5256 3)

THREAD=REFERENCES then reads the index instead of every message's header. Rows stored before this migration
keep NULL: their References are read from the message file when a THREAD first needs them.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("message_meta", sa.Column("references", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message_meta") as batch_op:
        batch_op.drop_column("references")
