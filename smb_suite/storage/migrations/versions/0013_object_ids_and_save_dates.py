"""object ids and save dates: MAILBOXID and EMAILID (RFC 8474), SAVEDATE (RFC 8514)

Each folder and each message gets a random opaque id, so an id says nothing about another folder, user or
tenant (row ids count and are guessable); a copied message keeps its EMAILID. Each message records when it
was saved into its folder; rows stored before this migration take their INTERNALDATE, the best estimate.

Revision ID: 0013
Revises: 0012
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _fill(name: str, column: str, prefix: str) -> None:
    """A new random id for every existing row (portable: no database-specific random function)."""
    bind = op.get_bind()
    table = sa.table(name, sa.column("id"), sa.column(column))
    ids = list(bind.execute(sa.select(table.c.id)).scalars())
    statement = table.update().where(table.c.id == sa.bindparam("key")).values({column: sa.bindparam("value")})
    for start in range(0, len(ids), 1000):
        rows = [{"key": row_id, "value": prefix + secrets.token_hex(12)} for row_id in ids[start : start + 1000]]
        bind.execute(statement, rows)


def upgrade() -> None:
    # plain ADD COLUMN: the tables (and their AUTOINCREMENT from 0009) stay as they are
    op.add_column("mailboxes", sa.Column("object_id", sa.String(64), server_default="", nullable=False))
    op.add_column("messages", sa.Column("email_id", sa.String(64), server_default="", nullable=False))
    op.add_column("messages", sa.Column("saved_at", sa.BigInteger(), nullable=True))
    _fill("mailboxes", "object_id", "M")
    _fill("messages", "email_id", "E")
    op.execute("UPDATE messages SET saved_at = internaldate")


def downgrade() -> None:
    for table, columns in (("messages", ("saved_at", "email_id")), ("mailboxes", ("object_id",))):
        with op.batch_alter_table(table, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
            for column in columns:
                batch_op.drop_column(column)
