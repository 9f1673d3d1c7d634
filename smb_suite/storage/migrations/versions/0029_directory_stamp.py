"""the directory's stamp: a new random value in the same transaction as every change that moves mail routing

Triggers on tenants, domains, users and aliases write it, so every writer (the daemon's workers on any node, the
command line, the admin pages, even hand-written SQL) invalidates the recipient caches (directory/routing.py).
Only the columns RCPT's resolution reads fire them: a quota charge (usage_bytes) or a site publish does not.
SQLite drops a table's triggers when a batch migration copies the table: such a migration must run
`create_triggers` again.

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

# table -> the columns whose change moves mail routing (users: the User rows a resolution returns)
WATCHED = {
    "tenants": ("suspended",),
    "domains": ("name", "tenant_id", "catchall", "verified_at"),
    "users": ("domain_id", "local_part", "role", "password_hash", "forward_to", "forward_keep_copy"),
    "aliases": ("domain_id", "local_part", "target"),
}
SQLITE_NEW = "random()"
POSTGRESQL_NEW = "(random() * 9.2e18)::bigint"


def create_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, columns in WATCHED.items():
            for event in ("INSERT", "DELETE", f"UPDATE OF {', '.join(columns)}"):
                name = f"directory_stamp_{table}_{event.split()[0].lower()}"
                op.execute(
                    f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                    f"BEGIN UPDATE directory_stamp SET stamp = {SQLITE_NEW}; END"
                )
        return
    op.execute(
        "CREATE FUNCTION directory_stamp_changed() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN UPDATE directory_stamp SET stamp = {POSTGRESQL_NEW}; RETURN NULL; END $$"
    )
    for table, columns in WATCHED.items():
        op.execute(
            f"CREATE TRIGGER directory_stamp_{table} AFTER INSERT OR DELETE OR UPDATE OF {', '.join(columns)} "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION directory_stamp_changed()"
        )


def upgrade() -> None:
    op.create_table(
        "directory_stamp",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO directory_stamp (id, stamp) VALUES (1, 0)")
    create_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in WATCHED:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER directory_stamp_{table}_{event}")
    else:
        for table in WATCHED:
            op.execute(f"DROP TRIGGER directory_stamp_{table} ON {table}")
        op.execute("DROP FUNCTION directory_stamp_changed()")
    op.drop_table("directory_stamp")
