"""DKIM keys move the directory's stamp too: the signing keys each worker keeps per domain
(directory/dkimkeys.py) are read again after a rotation by any process, as the recipient caches are after a
change to routing (0029). SQLite drops these triggers when a batch migration copies dkim_keys: such a migration
must create them again.

Revision ID: 0030
Revises: 0029
"""

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

COLUMNS = "domain_id, selector, algorithm, private_key, retired_at"  # what signing reads


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("INSERT", "DELETE", f"UPDATE OF {COLUMNS}"):
            op.execute(
                f"CREATE TRIGGER directory_stamp_dkim_keys_{event.split()[0].lower()} AFTER {event} ON dkim_keys "
                "BEGIN UPDATE directory_stamp SET stamp = random(); END"
            )
        return
    op.execute(
        f"CREATE TRIGGER directory_stamp_dkim_keys AFTER INSERT OR DELETE OR UPDATE OF {COLUMNS} "
        "ON dkim_keys FOR EACH STATEMENT EXECUTE FUNCTION directory_stamp_changed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER directory_stamp_dkim_keys_{event}")
    else:
        op.execute("DROP TRIGGER directory_stamp_dkim_keys ON dkim_keys")
