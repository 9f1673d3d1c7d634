"""ids never reused: AUTOINCREMENT for every table whose id keys a path or a cache (issue 11)

SQLite gives a new row the highest id plus one, so without AUTOINCREMENT the id of the last deleted row comes
back: a folder created after a DELETE inherited the old folder's kept IMAP state, and a path named by an id
would name the deleted row's files. With AUTOINCREMENT (sqlite_sequence) an id is handed out once, ever.

The tables are recreated with their data (batch mode); migrations/env.py turns foreign keys off around the
migration, so dropping the old tables cascades nothing, and checks them all afterwards.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("tenants", "domains", "users", "mailboxes", "messages")


def _recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # other databases never reuse a sequence's values
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass  # nothing changes but the table's AUTOINCREMENT


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    _recreate(False)
