"""\\Recent claims and a subscription list of names (RFC 3501 2.3.2, 6.3.6-7)

`mailboxes.recent_from`: the lowest UID no read-write session has been shown as \\Recent yet; a session
claims the messages from there up (storage/folders.py claim_recent). Existing messages are not recent.

`folder_subscriptions`: names, not folders, since a subscription outlives its folder's DELETE and is not made by
CREATE (RFC 3501 6.3.6); LIST (SUBSCRIBED) shows such names \\NonExistent (RFC 5258 3.4). It replaces
`mailboxes.subscribed`, whose true rows it takes over.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("mailboxes", sa.Column("recent_from", sa.BigInteger(), server_default="1", nullable=False))
    op.execute("UPDATE mailboxes SET recent_from = uidnext")
    op.create_table(
        "folder_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "name"),
    )
    op.execute("INSERT INTO folder_subscriptions (user_id, name) SELECT user_id, name FROM mailboxes WHERE subscribed")
    with op.batch_alter_table("mailboxes", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("subscribed")


def downgrade() -> None:
    with op.batch_alter_table("mailboxes", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column("subscribed", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_column("recent_from")
    op.execute(
        "UPDATE mailboxes SET subscribed = EXISTS (SELECT 1 FROM folder_subscriptions s"
        " WHERE s.user_id = mailboxes.user_id AND s.name = mailboxes.name)"
    )
    op.drop_table("folder_subscriptions")
